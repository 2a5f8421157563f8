/*
 * pq.h - libpq, for the two places that talk to PostgreSQL: the engine's
 * backend (engine/backend_pg*.c) and the authoring layer's scratch engine
 * (authoring/replay_pg.c, schema_pg.c, which an application's development
 * build uses for `migrate create --auto`). Include it instead of
 * libpq-fe.h.
 */
#ifndef STRATA_PQ_H
#define STRATA_PQ_H

#include <libpq-fe.h>

/*
 * libpq, loaded when first needed. A build that links libpq dynamically (the
 * default: STRATA_PQ_DLOPEN) does not make it a dependency of the program:
 * the first PostgreSQL URL loads it with dlopen (strata__pq_open), and every
 * PQ... call of these files goes through a table that dlsym filled, spelled
 * as a plain call by the macros below. A SQLite application never loads
 * libpq and the two dozen libraries it needs (GSSAPI, LDAP, TLS, ...), which
 * cost the dynamic loader about 10 M instructions and 5 ms at every start
 * (docs/performance.md). An application that links libpq itself still loads
 * it at start, and dlopen then finds the same copy. Static builds, where
 * dlopen is not available, call libpq directly.
 *
 * STRATA_PQ_FUNCTIONS is every libpq function strata calls, with libpq-fe.h's
 * prototype: pq.c checks each against the header at compile time.
 */
#define STRATA_PQ_FUNCTIONS(X)                                                                     \
    X(int, PQbackendPID, (const PGconn *))                                                         \
    X(void, PQclear, (PGresult *))                                                                 \
    X(char *, PQcmdStatus, (PGresult *))                                                           \
    X(char *, PQcmdTuples, (PGresult *))                                                           \
    X(PostgresPollingStatusType, PQconnectPoll, (PGconn *))                                        \
    X(PGconn *, PQconnectStartParams, (const char *const *, const char *const *, int))             \
    X(PGconn *, PQconnectdbParams, (const char *const *, const char *const *, int))                \
    X(void, PQconninfoFree, (PQconninfoOption *))                                                  \
    X(PQconninfoOption *, PQconninfoParse, (const char *, char **))                                \
    X(int, PQconsumeInput, (PGconn *))                                                             \
    X(char *, PQerrorMessage, (const PGconn *))                                                    \
    X(char *, PQfname, (const PGresult *, int))                                                    \
    X(void, PQfinish, (PGconn *))                                                                  \
    X(int, PQflush, (PGconn *))                                                                    \
    X(void, PQfreemem, (void *))                                                                   \
    X(PGresult *, PQgetResult, (PGconn *))                                                         \
    X(int, PQgetisnull, (const PGresult *, int, int))                                              \
    X(char *, PQgetvalue, (const PGresult *, int, int))                                            \
    X(int, PQisBusy, (PGconn *))                                                                   \
    X(PGresult *, PQmakeEmptyPGresult, (PGconn *, ExecStatusType))                                 \
    X(int, PQnfields, (const PGresult *))                                                          \
    X(int, PQntuples, (const PGresult *))                                                          \
    X(PGresult *, PQexec, (PGconn *, const char *))                                                \
    X(char *, PQresultErrorMessage, (const PGresult *))                                            \
    X(char *, PQresultErrorField, (const PGresult *, int))                                         \
    X(ExecStatusType, PQresultStatus, (const PGresult *))                                          \
    X(int, PQsendQuery, (PGconn *, const char *))                                                  \
    X(int, PQsendQueryParams,                                                                      \
      (PGconn *, const char *, int, const Oid *, const char *const *, const int *, const int *,    \
       int))                                                                                       \
    X(int, PQserverVersion, (const PGconn *))                                                      \
    X(PQnoticeProcessor, PQsetNoticeProcessor, (PGconn *, PQnoticeProcessor, void *))              \
    X(int, PQsetnonblocking, (PGconn *, int))                                                      \
    X(int, PQsocket, (const PGconn *))                                                             \
    X(ConnStatusType, PQstatus, (const PGconn *))                                                  \
    X(PGTransactionStatusType, PQtransactionStatus, (const PGconn *))

#ifdef STRATA_PQ_DLOPEN
/* Loads libpq once per process (any thread): 0, or -1 with *why (static
 * text, never freed) saying why not. */
int strata__pq_open(const char **why);
/* Tests only, before the first load: the file name dlopen is given instead
 * of STRATA_LIBPQ_SONAME (a missing one shows the error). */
void strata__pq_set_library(const char *name);

typedef struct strata_pq {
#define STRATA_PQ_MEMBER(ret, name, params) ret(*name) params;
    STRATA_PQ_FUNCTIONS(STRATA_PQ_MEMBER)
#undef STRATA_PQ_MEMBER
} strata_pq;
/* Filled by strata__pq_open, read-only afterwards. */
extern strata_pq strata__pq;
#else
/* libpq linked: nothing to load. */
static inline int strata__pq_open(const char **why)
{
    *why = NULL;
    return 0;
}
static inline void strata__pq_set_library(const char *name)
{
    (void)name;
}
#endif

/* pq.c, which fills the table, names libpq's own functions. */
#if defined(STRATA_PQ_DLOPEN) && !defined(STRATA_PQ_LOADER)
#define PQbackendPID         (strata__pq.PQbackendPID)
#define PQclear              (strata__pq.PQclear)
#define PQcmdStatus          (strata__pq.PQcmdStatus)
#define PQcmdTuples          (strata__pq.PQcmdTuples)
#define PQconnectPoll        (strata__pq.PQconnectPoll)
#define PQconnectStartParams (strata__pq.PQconnectStartParams)
#define PQconnectdbParams    (strata__pq.PQconnectdbParams)
#define PQconninfoFree       (strata__pq.PQconninfoFree)
#define PQconninfoParse      (strata__pq.PQconninfoParse)
#define PQconsumeInput       (strata__pq.PQconsumeInput)
#define PQerrorMessage       (strata__pq.PQerrorMessage)
#define PQfname              (strata__pq.PQfname)
#define PQfinish             (strata__pq.PQfinish)
#define PQflush              (strata__pq.PQflush)
#define PQfreemem            (strata__pq.PQfreemem)
#define PQgetResult          (strata__pq.PQgetResult)
#define PQgetisnull          (strata__pq.PQgetisnull)
#define PQgetvalue           (strata__pq.PQgetvalue)
#define PQisBusy             (strata__pq.PQisBusy)
#define PQmakeEmptyPGresult  (strata__pq.PQmakeEmptyPGresult)
#define PQnfields            (strata__pq.PQnfields)
#define PQntuples            (strata__pq.PQntuples)
#define PQexec               (strata__pq.PQexec)
#define PQresultErrorMessage (strata__pq.PQresultErrorMessage)
#define PQresultErrorField   (strata__pq.PQresultErrorField)
#define PQresultStatus       (strata__pq.PQresultStatus)
#define PQsendQuery          (strata__pq.PQsendQuery)
#define PQsendQueryParams    (strata__pq.PQsendQueryParams)
#define PQserverVersion      (strata__pq.PQserverVersion)
#define PQsetNoticeProcessor (strata__pq.PQsetNoticeProcessor)
#define PQsetnonblocking     (strata__pq.PQsetnonblocking)
#define PQsocket             (strata__pq.PQsocket)
#define PQstatus             (strata__pq.PQstatus)
#define PQtransactionStatus  (strata__pq.PQtransactionStatus)
#endif

#endif
