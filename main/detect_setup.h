/*
 * detect_setup.h - what analyze reads before the run for the detection
 * stage: the config file (-c) and the rules (-R, else the bundled rules
 * compiled into the binary), with every problem printed as one line
 * (`sipsift: FILE:LINE: message`) so a bad rule stops start-up, never
 * skipped silently.
 */
#ifndef SIPSIFT_DETECT_SETUP_H
#define SIPSIFT_DETECT_SETUP_H

#include "main/engine.h"

/*
 * Fill cfg->detect, cfg->rules, cfg->wordlist and cfg->geoip from the paths.
 * Returns 0, or the exit code (SIPSIFT_EXIT_USAGE) after printing the errors.
 * The caller owns cfg->rules until it gives it to engine_new.
 */
int detect_setup(struct engine_cfg *cfg);
/* Free what detect_setup loaded when the run stops before engine_new. */
void detect_setup_free(struct engine_cfg *cfg);

#endif
