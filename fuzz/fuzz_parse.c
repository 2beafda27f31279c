/*
 * fuzz_parse.c - the libFuzzer target over the scenario parser: any bytes
 * are a scenario file to scenario_parse_text. It must report errors (to a
 * sink here) and never crash, hang, leak or hit undefined behaviour; the
 * build adds AddressSanitizer and UndefinedBehaviorSanitizer.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "scenario.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *sink;
	struct scenario s;

	if (sink == NULL && (sink = fopen("/dev/null", "w")) == NULL)
		return 0;
	scenario_parse_text(&s, "fuzz.scn", (const char *)data, size, sink);
	scenario_free(&s);
	return 0;
}
