/* AWS shared config/credentials files, profile, and endpoint rules. */
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

char *nk_aws_ini_value(char *text, const char *sect, const char *key)
{
    char *line, *next, *s, *eq, *val = NULL;
    int in = 0;

    for (line = text; line != NULL; line = next) {
        next = strchr(line, '\n');
        if (next != NULL)
            *next++ = '\0';
        s = trim(line);
        if (*s == '#' || *s == ';' || *s == '\0')
            continue;
        if (*s == '[') {
            char *end = strrchr(s, ']');

            if (end != NULL)
                *end = '\0';
            in = strcmp(trim(s + 1), sect) == 0;
            continue;
        }
        eq = strchr(s, '=');
        if (!in || eq == NULL)
            continue;
        *eq = '\0';
        if (strcmp(trim(s), key) == 0) {
            free(val);
            val = nk_xstrdup(trim(eq + 1));
        }
    }
    return val;
}

/* The value of key in section sect of an INI file. */
static char *ini_get(const char *path, const char *sect, const char *key)
{
    struct nk_err e = {NK_ERR_NONE, ""};
    struct nk_buf b;
    char *val = NULL;

    nk_buf_init(&b, INI_MAX);
    if (nk_buf_read_file(&b, path, &e) == 0)
        val = nk_aws_ini_value((char *)b.data, sect, key);
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

char *nk_aws_config_get(const char *profile, const char *key)
{
    char *path = file_path("AWS_CONFIG_FILE", "config"), *sect, *v = NULL;

    if (path == NULL)
        return NULL;
    if (strcmp(profile, "default") == 0)
        v = ini_get(path, "default", key);
    if (v == NULL) {
        sect = nk_xasprintf("profile %s", profile);
        v = ini_get(path, sect, key);
        free(sect);
    }
    free(path);
    return v;
}

char *nk_aws_credentials_get(const char *profile, const char *key)
{
    char *path = file_path("AWS_SHARED_CREDENTIALS_FILE", "credentials");
    char *v;

    if (path == NULL)
        return NULL;
    v = ini_get(path, profile, key);
    free(path);
    return v;
}

char *nk_aws_endpoint(const struct nk_config *cfg, const char *id,
                      const char *service, const char *region)
{
    char name[64];
    const char *v;
    size_t n;
    int fips = nk_aws_env_true("AWS_USE_FIPS_ENDPOINT");
    const char *suffix = strncmp(region, "cn-", 3) == 0 ? "amazonaws.com.cn"
                                                        : "amazonaws.com";

    snprintf(name, sizeof(name), "AWS_ENDPOINT_URL_%s", id);
    v = getenv(name);
    if (v == NULL || v[0] == '\0')
        v = getenv("AWS_ENDPOINT_URL");
    if (v != NULL && v[0] != '\0') {
        n = strlen(v);
        while (n > 0 && v[n - 1] == '/')
            n--;
        return nk_xstrndup(v, n);
    }
    if (nk_config_str(cfg, "aws-fips") != NULL)
        fips = strcasecmp(nk_config_str(cfg, "aws-fips"), "true") == 0;
    return nk_xasprintf("https://%s%s.%s.%s", service, fips ? "-fips" : "",
                        region, suffix);
}
