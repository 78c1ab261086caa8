/* scenario.h - a simulation scenario read from a small JSON file (format in
 * docs/ccsim.md). Every field is type- and range-checked and unknown keys are
 * refused, so that a typo cannot silently change the figures. */
#ifndef CCSIM_SCENARIO_H
#define CCSIM_SCENARIO_H

#include "ccsim.h"

/* Reads the scenario in `path` into `sc` and checks it (scenario_check).
 * Returns CC_OK; CC_ERR_IO when the file cannot be read, CC_ERR_INVALID with
 * the field and the rule in `why` when it is not a valid scenario. */
enum cc_status scenario_load(struct scenario *sc, const char *path, char *why, size_t whycap);

/* Checks the cross-field rules (run again after command-line overrides) and
 * derives the list of distinct skills. CC_OK or CC_ERR_INVALID with `why`. */
enum cc_status scenario_check(struct scenario *sc, char *why, size_t whycap);

/* Index of skill `name` in sc->skills, or -1. */
int scenario_skill(const struct scenario *sc, const char *name);

/* Number of agents over all groups. */
size_t scenario_agents(const struct scenario *sc);

#endif
