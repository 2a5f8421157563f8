/*
 * serve.h - silica as a long-lived service: `silica cron --bind-port 8080`.
 */
#ifndef SILICA_SERVE_H
#define SILICA_SERVE_H

#include <strata/strata.h>

/*
 * Listens on address:port (IPv4; port 0 picks a free one, the log says
 * which), then brings the module's database to this binary's heads with
 * strata_startup as the environment says, and serves until SIGTERM or
 * SIGINT:
 *   GET /healthz  200 while the process runs, during the startup migration too
 *                 (a liveness probe must not kill a long migration);
 *   GET /readyz   200 only while the database is at the binary's heads (no
 *                 pending, edited or dirty migration; revisions it does not
 *                 know, from a newer replica, do not count), else 503 with
 *                 the reason. Each request reads the database with
 *                 strata_report_read: read-only, no lock, so it answers while
 *                 another replica holds the migration lock.
 * Logs through opts->log: "Listening on ...", the startup lines, then
 * "Application startup complete". Returns the process exit code: 0 after a
 * stop by signal, strata_exit_code() of a failed startup, 1 when the socket
 * cannot be set up.
 */
int silica_serve(const strata_bundle *bundle, const strata_options *opts, const char *address,
                 unsigned port);

#endif
