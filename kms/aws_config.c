/* AWS shared config/credentials files, profile, and endpoint rules. The
 * files are INI as Python's configparser reads them (the SDKs' reference):
 * "key = value" or "key: value", keys in any case, comments on their own
 * lines, indented lines continue the previous value. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "aws_config.h"
#include "common/buf.h"
#include "common/mem.h"

#define INI_MAX (1024u * 1024)

const char *nk_aws_profile(const struct nk_config *cfg)
{
    const char *p = nk_config_str(cfg, "aws-profile");

    if (p == NULL)
        p = getenv("AWS_PROFILE");
    if (p == NULL || p[0] == '\0')
        p = "default";
    return p;
}

int nk_aws_profile_explicit(const struct nk_config *cfg)
{
    return nk_config_str(cfg, "aws-profile") != NULL;
}

int nk_aws_env_true(const char *name)
{
    const char *v = getenv(name);

    return v != NULL && (strcasecmp(v, "true") == 0 || strcmp(v, "1") == 0);
}

static char *trim(char *s)
{
    char *e;

    while (isspace((unsigned char)*s))
        s++;
    e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        *--e = '\0';
    return s;
}

/* Whether a section header (the text between the brackets, trimmed) names
 * what we look for. kind NULL: the credentials file, where the header is
 * the profile name. Otherwise the config file's "KIND NAME" (white space
 * between, NAME possibly in double quotes, as the SDKs split it), and
 * "[default]" for the default profile. */
static int header_is(char *h, const char *kind, const char *name)
{
    size_t n;

    h = trim(h);
    if (kind == NULL)
        return strcmp(h, name) == 0;
    if (strcmp(kind, "profile") == 0 && strcmp(name, "default") == 0 &&
        strcmp(h, "default") == 0)
        return 1;
    n = strlen(kind);
    if (strncmp(h, kind, n) != 0 || !isspace((unsigned char)h[n]))
        return 0;
    h = trim(h + n);
    n = strlen(h);
    if (n >= 2 && h[0] == '"' && h[n - 1] == '"') {
        h[n - 1] = '\0';
        h++;
    }
    return strcmp(h, name) == 0;
}

/* The value of key in the section of text (NUL-terminated, cut in place)
 * that header_is(kind, name) picks (the last one wins, as a later section
 * or key would in the SDKs); *found is set when such a section exists. */
static char *ini_scan(char *text, const char *kind, const char *name,
                      const char *key, int *found)
{
    char *line, *next, *s, *eq, *val = NULL;
    int in = 0, after_key = 0;

    *found = 0;
    for (line = text; line != NULL; line = next) {
        next = strchr(line, '\n');
        if (next != NULL)
            *next++ = '\0';
        /* An indented line after a key continues its value. */
        if (after_key && (line[0] == ' ' || line[0] == '\t') &&
            trim(line)[0] != '\0')
            continue;
        s = trim(line);
        if (*s == '#' || *s == ';' || *s == '\0')
            continue;
        after_key = 0;
        if (*s == '[') {
            char *end = strrchr(s, ']');

            if (end != NULL)
                *end = '\0';
            in = header_is(s + 1, kind, name);
            *found |= in;
            continue;
        }
        eq = s + strcspn(s, "=:");
        if (*eq == '\0')
            continue;
        after_key = 1;
        *eq = '\0';
        if (in && strcasecmp(trim(s), key) == 0) {
            nk_strfreezero(val);
            val = nk_xstrdup(trim(eq + 1));
        }
    }
    return val;
}

char *nk_aws_ini_value(char *text, const char *sect, const char *key)
{
    int found;

    return ini_scan(text, NULL, sect, key, &found);
}

/* ini_scan over the file at path (missing or unreadable: nothing). */
static char *ini_get(const char *path, const char *kind, const char *name,
                     const char *key, int *found)
{
    struct nk_err e = {NK_ERR_NONE, ""};
    struct nk_buf b;
    char *val = NULL;

    *found = 0;
    nk_buf_init(&b, INI_MAX);
    if (nk_buf_read_file(&b, path, &e) == 0)
        val = ini_scan((char *)b.data, kind, name, key, found);
    nk_buf_release(&b);
    return val;
}

static char *file_path(const char *env, const char *name)
{
    const char *v = getenv(env), *home = getenv("HOME");

    if (v != NULL && v[0] != '\0')
        return nk_xstrdup(v);
    if (home == NULL || home[0] == '\0')
        return NULL;
    return nk_xasprintf("%s/.aws/%s", home, name);
}

/* One lookup in the config file (kind "profile" or "sso-session") or the
 * credentials file (kind NULL). */
static char *lookup(const char *kind, const char *name, const char *key,
                    int *found)
{
    char *path = kind != NULL
                     ? file_path("AWS_CONFIG_FILE", "config")
                     : file_path("AWS_SHARED_CREDENTIALS_FILE", "credentials");
    char *v = NULL;

    *found = 0;
    if (path != NULL)
        v = ini_get(path, kind, name, key, found);
    free(path);
    return v;
}

char *nk_aws_config_get(const char *profile, const char *key)
{
    int found;

    return lookup("profile", profile, key, &found);
}

char *nk_aws_credentials_get(const char *profile, const char *key)
{
    int found;

    return lookup(NULL, profile, key, &found);
}

char *nk_aws_profile_get(const char *profile, const char *key)
{
    char *v = nk_aws_credentials_get(profile, key);

    return v != NULL ? v : nk_aws_config_get(profile, key);
}

int nk_aws_profile_exists(const char *profile)
{
    int a, b;

    free(lookup(NULL, profile, "", &a));
    free(lookup("profile", profile, "", &b));
    return a || b;
}

char *nk_aws_sso_session_get(const char *name, const char *key)
{
    int found;

    return lookup("sso-session", name, key, &found);
}

int nk_aws_sso_session_exists(const char *name)
{
    int found;

    free(lookup("sso-session", name, "", &found));
    return found;
}

char *nk_aws_endpoint_override(const char *id)
{
    char name[64];
    const char *v;
    size_t n;

    snprintf(name, sizeof(name), "AWS_ENDPOINT_URL_%s", id);
    v = getenv(name);
    if (v == NULL || v[0] == '\0')
        v = getenv("AWS_ENDPOINT_URL");
    if (v == NULL || v[0] == '\0')
        return NULL;
    n = strlen(v);
    while (n > 0 && v[n - 1] == '/')
        n--;
    return nk_xstrndup(v, n);
}

const char *nk_aws_dns_suffix(const char *region)
{
    return strncmp(region, "cn-", 3) == 0 ? "amazonaws.com.cn"
                                          : "amazonaws.com";
}

char *nk_aws_endpoint(const struct nk_config *cfg, const char *id,
                      const char *service, const char *region)
{
    char *v = nk_aws_endpoint_override(id);
    int fips = nk_aws_env_true("AWS_USE_FIPS_ENDPOINT");

    if (v != NULL)
        return v;
    if (nk_config_str(cfg, "aws-fips") != NULL)
        fips = strcasecmp(nk_config_str(cfg, "aws-fips"), "true") == 0;
    return nk_xasprintf("https://%s%s.%s.%s", service, fips ? "-fips" : "",
                        region, nk_aws_dns_suffix(region));
}
