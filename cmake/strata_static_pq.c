/*
 * strata_static_pq.c - linked after libpq.a in the static presets
 * (STRATA_STATIC_LINK, cmake/StrataStatic.cmake); never in a dynamic build.
 *
 * Debian builds libpq with GSSAPI and LDAP but ships no static archive of
 * either library, so a static libpq link has no gss_* and ldap_* functions.
 * These stand in for them and fail, so a static binary gives up exactly two
 * things, each with an error when asked for:
 *   - GSSAPI (Kerberos) authentication and encryption: the default
 *     gssencmode=prefer finds no credentials and goes on without GSSAPI (as
 *     a client without a Kerberos ticket does); a server that demands GSSAPI
 *     authentication, or gssencmode=require, fails with GSSAPI_MESSAGE;
 *   - LDAP lookup of connection services (ldap:// lines in pg_service.conf):
 *     "could not create LDAP structure".
 * Everything else in libpq (password, SCRAM, TLS through the static
 * OpenSSL, unix sockets, TCP) is the real code.
 *
 * With glibc linked statically as well (STRATA_STATIC_LINK=ALL), libpq's
 * look-up of the user name and home directory (getpwuid_r) is replaced by
 * "no such user" (__wrap_getpwuid_r, linked with -Wl,--wrap=getpwuid_r):
 * a static glibc loads NSS modules from the file system at run time, which
 * an empty root or a FROM scratch image does not have. docs/deploy/README.md
 * says what that asks of the connection string.
 */
#define LDAP_DEPRECATED 1
#include <errno.h>
#include <gssapi/gssapi.h>
#include <ldap.h>
#include <pwd.h>
#include <stddef.h>

#define GSSAPI_MESSAGE                                                                             \
    "GSSAPI is not available in this static build (strata: docs/deploy/README.md)"

static char gssapi_message[] = GSSAPI_MESSAGE;

gss_OID GSS_C_NT_HOSTBASED_SERVICE = GSS_C_NO_OID;

static OM_uint32 gss_unavailable(OM_uint32 *minor)
{
    if (minor)
        *minor = 0;
    return GSS_S_FAILURE;
}

OM_uint32 gss_acquire_cred(OM_uint32 *minor, gss_name_t name, OM_uint32 time_req, gss_OID_set mechs,
                           gss_cred_usage_t usage, gss_cred_id_t *cred, gss_OID_set *actual_mechs,
                           OM_uint32 *time_rec)
{
    (void)name, (void)time_req, (void)mechs, (void)usage, (void)actual_mechs, (void)time_rec;
    if (cred)
        *cred = GSS_C_NO_CREDENTIAL;
    return gss_unavailable(minor);
}

OM_uint32 gss_release_cred(OM_uint32 *minor, gss_cred_id_t *cred)
{
    (void)cred;
    if (minor)
        *minor = 0;
    return GSS_S_COMPLETE;
}

OM_uint32 gss_import_name(OM_uint32 *minor, gss_buffer_t name_buf, gss_OID name_type,
                          gss_name_t *name)
{
    (void)name_buf, (void)name_type;
    if (name)
        *name = GSS_C_NO_NAME;
    return gss_unavailable(minor);
}

OM_uint32 gss_release_name(OM_uint32 *minor, gss_name_t *name)
{
    (void)name;
    if (minor)
        *minor = 0;
    return GSS_S_COMPLETE;
}

OM_uint32 gss_init_sec_context(OM_uint32 *minor, gss_cred_id_t cred, gss_ctx_id_t *ctx,
                               gss_name_t target, gss_OID mech, OM_uint32 flags, OM_uint32 time_req,
                               gss_channel_bindings_t bindings, gss_buffer_t input,
                               gss_OID *actual_mech, gss_buffer_t output, OM_uint32 *ret_flags,
                               OM_uint32 *time_rec)
{
    (void)cred, (void)ctx, (void)target, (void)mech, (void)flags, (void)time_req;
    (void)bindings, (void)input, (void)actual_mech, (void)ret_flags, (void)time_rec;
    if (output) {
        output->length = 0;
        output->value = NULL;
    }
    return gss_unavailable(minor);
}

OM_uint32 gss_delete_sec_context(OM_uint32 *minor, gss_ctx_id_t *ctx, gss_buffer_t output)
{
    (void)ctx, (void)output;
    if (minor)
        *minor = 0;
    return GSS_S_COMPLETE;
}

OM_uint32 gss_wrap(OM_uint32 *minor, gss_ctx_id_t ctx, int conf_req, gss_qop_t qop,
                   gss_buffer_t input, int *conf_state, gss_buffer_t output)
{
    (void)ctx, (void)conf_req, (void)qop, (void)input, (void)conf_state, (void)output;
    return gss_unavailable(minor);
}

OM_uint32 gss_unwrap(OM_uint32 *minor, gss_ctx_id_t ctx, gss_buffer_t input, gss_buffer_t output,
                     int *conf_state, gss_qop_t *qop)
{
    (void)ctx, (void)input, (void)output, (void)conf_state, (void)qop;
    return gss_unavailable(minor);
}

OM_uint32 gss_wrap_size_limit(OM_uint32 *minor, gss_ctx_id_t ctx, int conf_req, gss_qop_t qop,
                              OM_uint32 req_output_size, OM_uint32 *max_input_size)
{
    (void)ctx, (void)conf_req, (void)qop, (void)req_output_size;
    if (max_input_size)
        *max_input_size = 0;
    return gss_unavailable(minor);
}

/* libpq prints the text of every failure through this: say why. */
OM_uint32 gss_display_status(OM_uint32 *minor, OM_uint32 status, int status_type, gss_OID mech,
                             OM_uint32 *message_context, gss_buffer_t text)
{
    (void)status, (void)status_type, (void)mech;
    if (minor)
        *minor = 0;
    if (message_context)
        *message_context = 0;
    if (text) {
        text->length = sizeof gssapi_message - 1;
        text->value = gssapi_message;
    }
    return GSS_S_COMPLETE;
}

/* Buffers handed out here are static: nothing to free. */
OM_uint32 gss_release_buffer(OM_uint32 *minor, gss_buffer_t buffer)
{
    if (minor)
        *minor = 0;
    if (buffer) {
        buffer->length = 0;
        buffer->value = NULL;
    }
    return GSS_S_COMPLETE;
}

/* LDAP: ldap_init fails, so libpq never reaches the others. */
LDAP *ldap_init(LDAP_CONST char *host, int port)
{
    (void)host, (void)port;
    return NULL;
}

int ldap_set_option(LDAP *ld, int option, LDAP_CONST void *invalue)
{
    (void)ld, (void)option, (void)invalue;
    return LDAP_OPT_ERROR;
}

int ldap_simple_bind(LDAP *ld, LDAP_CONST char *who, LDAP_CONST char *passwd)
{
    (void)ld, (void)who, (void)passwd;
    return -1;
}

int ldap_result(LDAP *ld, int msgid, int all, struct timeval *timeout, LDAPMessage **result)
{
    (void)ld, (void)msgid, (void)all, (void)timeout;
    if (result)
        *result = NULL;
    return -1;
}

int ldap_search_st(LDAP *ld, LDAP_CONST char *base, int scope, LDAP_CONST char *filter,
                   char **attrs, int attrsonly, struct timeval *timeout, LDAPMessage **res)
{
    (void)ld, (void)base, (void)scope, (void)filter, (void)attrs, (void)attrsonly, (void)timeout;
    if (res)
        *res = NULL;
    return LDAP_NOT_SUPPORTED;
}

int ldap_count_entries(LDAP *ld, LDAPMessage *chain)
{
    (void)ld, (void)chain;
    return -1;
}

LDAPMessage *ldap_first_entry(LDAP *ld, LDAPMessage *chain)
{
    (void)ld, (void)chain;
    return NULL;
}

struct berval **ldap_get_values_len(LDAP *ld, LDAPMessage *entry, LDAP_CONST char *target)
{
    (void)ld, (void)entry, (void)target;
    return NULL;
}

void ldap_value_free_len(struct berval **vals)
{
    (void)vals;
}

int ldap_msgfree(LDAPMessage *lm)
{
    (void)lm;
    return 0;
}

int ldap_unbind(LDAP *ld)
{
    (void)ld;
    return LDAP_SUCCESS;
}

char *ldap_err2string(int err)
{
    static char message[] = "LDAP is not available in this static build";
    (void)err;
    return message;
}

/* Fully static glibc only (-Wl,--wrap=getpwuid_r): no passwd look-up. */
int __wrap_getpwuid_r(uid_t uid, struct passwd *pwd, char *buf, size_t buflen,
                      struct passwd **result);

int __wrap_getpwuid_r(uid_t uid, struct passwd *pwd, char *buf, size_t buflen,
                      struct passwd **result)
{
    (void)uid, (void)pwd, (void)buf, (void)buflen;
    *result = NULL;
    return 0; /* "not found", as getpwuid_r says for a uid without an entry */
}
