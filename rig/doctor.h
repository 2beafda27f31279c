/*
 * doctor.h - what each rule of the catalog needs from a guest's descriptor
 * (checked, partly checked, not checked, and why), and `rig doctor`.
 */
#ifndef RIG_DOCTOR_H
#define RIG_DOCTOR_H

#include <stddef.h>

#include "contract.h"

enum rule_status { RULE_CHECKED, RULE_PARTLY, RULE_NOT };

/* How far rule id can be checked on a guest with descriptor ct; the explanation into why. */
enum rule_status doctor_rule(const struct contract *ct, const char *id, char *why, size_t len);
const char *doctor_status_name(enum rule_status st);
/* rig doctor [GUEST | PATH.elf]. */
int cmd_doctor(int argc, char **argv);

#endif
