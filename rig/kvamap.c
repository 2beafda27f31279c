/*
 * kvamap.c - owns the KVA block samples and their SVG (see kvamap.h). Each
 * row is drawn as runs of one colour, so a long run stays a small file.
 */
#include "kvamap.h"

#include <stdlib.h>
#include <string.h>

#include "gview.h"

#define KVA_MAX_COLS	600

void kvamap_init(struct kvamap *k, uint64_t total_ops)
{
	memset(k, 0, sizeof(*k));
	k->bucket = total_ops / KVA_MAX_COLS + 1;
}

void kvamap_free(struct kvamap *k)
{
	free(k->cells);
	free(k->ever);
	memset(k, 0, sizeof(*k));
}

/* Grow to one more column; NULL if memory is short. */
static uint8_t *new_column(struct kvamap *k)
{
	if (k->ncols == k->capcols) {
		uint32_t cap = k->capcols ? k->capcols * 2 : 64;
		uint8_t *c = realloc(k->cells, (size_t)cap * k->slots);

		if (c == NULL)
			return NULL;
		k->cells = c;
		k->capcols = cap;
	}
	return k->cells + (size_t)k->ncols++ * k->slots;
}

void kvamap_sample(struct kvamap *k, struct machine *m, uint64_t op)
{
	struct guest_info *gi = machine_info(m);
	uint32_t base = gv_kva_base(m), used_ever = 0;
	uint8_t *col;

	if (op != 0 && op % k->bucket != 0)
		return;
	gv_counter(m, CT_CNT_KVA_USED_EVER, &used_ever);	/* 0 when the guest keeps none */
	if (k->slots == 0) {
		k->slots = gv_kva_slots(m);
		if ((k->ever = calloc(k->slots ? k->slots : 1, 1)) == NULL)
			return;
	}
	if ((col = new_column(k)) == NULL)
		return;
	for (uint32_t s = 0; s < k->slots; s++) {
		struct walk w;
		int valid = gv_walk(m, gi->gi_boot_cr3, base + s * PAGE_SIZE, &w) == WALK_MAPPED;

		/* Slots are handed out lowest first, so a guest's high-water mark
		 * (counter kva-used-ever) says which were ever used, also between two
		 * samples; without one, the samples say it. */
		k->ever[s] |= valid || s < used_ever;
		col[s] = valid ? KVA_ALLOC : k->ever[s] ? KVA_FREE : KVA_NEVER;
	}
}

/* Text with XML's special characters escaped. */
static void xml_text(FILE *out, const char *s)
{
	for (; *s; s++) {
		if (*s == '<')
			fputs("&lt;", out);
		else if (*s == '>')
			fputs("&gt;", out);
		else if (*s == '&')
			fputs("&amp;", out);
		else
			fputc(*s, out);
	}
}

int kvamap_write_svg(const struct kvamap *k, FILE *out, const char *title)
{
	static const char *fill[] = { "#d9d9d9", "#3b6ea8", "#e8a33d" };
	static const char *cls[] = { "never", "alloc", "free" };
	uint32_t cw = k->ncols ? 600 / k->ncols : 1, ch = k->slots <= 32 ? 10 : k->slots <= 256 ? 3 : 1, w, h;

	cw = cw < 1 ? 1 : cw > 16 ? 16 : cw;
	w = k->ncols * cw + 20 < 480 ? 480 : k->ncols * cw + 20;
	h = k->slots * ch + 60;
	fprintf(out, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%u\" height=\"%u\" "
	    "data-columns=\"%u\" data-slots=\"%u\" data-steps-per-column=\"%llu\">\n",
	    w, h, k->ncols, k->slots, (unsigned long long)k->bucket);
	fputs("<title>", out);
	xml_text(out, title);
	fputs("</title>\n<text x=\"10\" y=\"14\" font-size=\"12\" font-family=\"sans-serif\">", out);
	xml_text(out, title);
	fprintf(out, ": pv chunk KVA block, %u slots (rows) over %u samples (columns)</text>\n", k->slots, k->ncols);
	for (uint32_t s = 0; s < k->slots; s++) {
		for (uint32_t c = 0; c < k->ncols;) {
			uint8_t v = k->cells[(size_t)c * k->slots + s];
			uint32_t n = 1;

			while (c + n < k->ncols && k->cells[(size_t)(c + n) * k->slots + s] == v)
				n++;
			fprintf(out, "<rect class=\"%s\" x=\"%u\" y=\"%u\" width=\"%u\" height=\"%u\" fill=\"%s\" "
			    "data-col=\"%u\" data-cols=\"%u\" data-slot=\"%u\"/>\n", cls[v], 10 + c * cw, 20 + s * ch,
			    n * cw, ch, fill[v], c, n, s);
			c += n;
		}
	}
	for (int i = 0; i < 3; i++)
		fprintf(out, "<rect x=\"%u\" y=\"%u\" width=\"10\" height=\"10\" fill=\"%s\"/><text x=\"%u\" y=\"%u\" "
		    "font-size=\"11\" font-family=\"sans-serif\">%s</text>\n", 10 + i * 150, h - 25, fill[i],
		    25 + i * 150, h - 16, i == 0 ? "never used" : i == 1 ? "allocated (chunk)" : "free (hole, on the list)");
	fputs("</svg>\n", out);
	return ferror(out) ? -1 : 0;
}
