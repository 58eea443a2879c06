/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The etcd store's URI and options: etcd[s]://HOST:PORT[,...][/CLUSTER][?PARAMS]
 * into the client's configuration. Every refusal quotes the URI and names
 * the part that is wrong.
 */
#include "client.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <kilo/store.h>

#include "../../core/error.h"

#define CLUSTER_NAME_MAX 63
#define ENDPOINTS_MAX 32
#define PASSWORD_MAX 1024
/* A DNS name's longest text form. */
#define HOST_MAX 253

enum { PARAM_CACERT, PARAM_CERT, PARAM_KEY, PARAM_USER, PARAM_PASSWORD_FILE, PARAM_N };

struct uri_params {
	char *values[PARAM_N];
};

static const char *const param_names[PARAM_N] = { "cacert", "cert", "key", "user", "password-file" };

/* Letters, digits, '-', '_', '.': what host names, IPv4 addresses and cluster names are made of. */
static bool is_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
	       c == '_';
}

static bool is_hex_or_colon(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == ':' || c == '.';
}

/* "1".."65535", digits only. */
static bool parse_port(const char *text, size_t len)
{
	unsigned long port = 0;

	if (len == 0 || len > 5)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (text[i] < '0' || text[i] > '9')
			return false;
		port = port * 10 + (unsigned long)(text[i] - '0');
	}
	return port >= 1 && port <= 65535;
}

/* One HOST:PORT of the list (len bytes at text) into "scheme://HOST:PORT". */
static int parse_endpoint(const char *uri, const char *text, size_t len, bool tls, char **out,
			  struct kilo_error *err)
{
	const char *port;
	size_t host_len;

	if (len == 0)
		return kilo_error_set(err, EINVAL, "store \"%s\": an endpoint is empty (expected HOST:PORT)", uri);
	if (text[0] == '[') {
		const char *close = memchr(text, ']', len);

		if (!close || close == text + 1 || (size_t)(close - text) + 1 >= len || close[1] != ':')
			return kilo_error_set(err, EINVAL,
					      "store \"%s\": endpoint \"%.*s\" is not HOST:PORT ([IPV6]:PORT)", uri,
					      (int)len, text);
		for (const char *c = text + 1; c < close; c++)
			if (!is_hex_or_colon(*c) || close - text > KILO_ADDR_STRLEN)
				return kilo_error_set(err, EINVAL,
						      "store \"%s\": host \"%.*s\" is not an IPv6 address", uri,
						      (int)(close - text + 1), text);
		host_len = (size_t)(close - text) + 1;
	} else {
		const char *colon = memrchr(text, ':', len);

		if (!colon)
			return kilo_error_set(err, EINVAL, "store \"%s\": endpoint \"%.*s\" has no port (HOST:PORT)",
					      uri, (int)len, text);
		host_len = (size_t)(colon - text);
		if (host_len > HOST_MAX)
			return kilo_error_set(err, EINVAL, "store \"%s\": host \"%.*s...\" is longer than %d characters",
					      uri, 40, text, HOST_MAX);
		if (host_len == 0)
			return kilo_error_set(err, EINVAL, "store \"%s\": endpoint \"%.*s\" has no host (HOST:PORT)",
					      uri, (int)len, text);
		for (size_t i = 0; i < host_len; i++)
			if (!is_name_char(text[i]))
				return kilo_error_set(err, EINVAL,
						      "store \"%s\": host \"%.*s\" is not a host name or address", uri,
						      (int)host_len, text);
	}
	port = text + host_len + 1;
	if (!parse_port(port, len - host_len - 1))
		return kilo_error_set(err, EINVAL, "store \"%s\": port \"%.*s\" is not a port", uri,
				      (int)(len - host_len - 1), port);
	if (asprintf(out, "%s://%.*s", tls ? "https" : "http", (int)len, text) < 0) {
		*out = NULL;
		return -ENOMEM;
	}
	return 0;
}

static int parse_endpoints(const char *uri, const char *text, size_t len, bool tls, struct kilo_etcd_config *out,
			   struct kilo_error *err)
{
	const char *at = text, *end = text + len;

	if (len == 0)
		return kilo_error_set(err, EINVAL, "store \"%s\": no endpoint (expected HOST:PORT[,HOST:PORT...])",
				      uri);
	out->endpoints = calloc(ENDPOINTS_MAX, sizeof(*out->endpoints));
	if (!out->endpoints)
		return -ENOMEM;
	while (at <= end) {
		const char *comma = memchr(at, ',', (size_t)(end - at));
		size_t n = comma ? (size_t)(comma - at) : (size_t)(end - at);
		int r;

		if (out->n_endpoints == ENDPOINTS_MAX)
			return kilo_error_set(err, EINVAL, "store \"%s\": more than %d endpoints", uri,
					      ENDPOINTS_MAX);
		r = parse_endpoint(uri, at, n, tls, &out->endpoints[out->n_endpoints], err);
		if (r < 0)
			return r;
		out->n_endpoints++;
		if (!comma)
			break;
		at = comma + 1;
	}
	return 0;
}

static int parse_cluster(const char *uri, const char *text, size_t len, struct kilo_etcd_config *out,
			 struct kilo_error *err)
{
	bool dots_only = true;

	if (len == 0 || len > CLUSTER_NAME_MAX)
		goto bad;
	for (size_t i = 0; i < len; i++) {
		if (!is_name_char(text[i]))
			goto bad;
		dots_only = dots_only && text[i] == '.';
	}
	/* "." and ".." would read as folders to whoever lists the keys. */
	if (dots_only)
		goto bad;
	out->cluster = strndup(text, len);
	return out->cluster ? 0 : -ENOMEM;
bad:
	return kilo_error_set(err, EINVAL,
			      "store \"%s\": cluster \"%.*s\" is not a name (1 to %d letters, digits, '-', '_', '.')",
			      uri, (int)len, text, CLUSTER_NAME_MAX);
}

static int parse_params(const char *uri, const char *text, struct uri_params *params, struct kilo_error *err)
{
	const char *at = text;

	while (*at) {
		size_t n = strcspn(at, "&");
		const char *eq = memchr(at, '=', n);
		size_t name_len = eq ? (size_t)(eq - at) : n;
		int which = -1;

		for (int i = 0; i < PARAM_N; i++)
			if (strlen(param_names[i]) == name_len && !strncmp(at, param_names[i], name_len))
				which = i;
		if (name_len == 8 && !strncmp(at, "password", 8))
			return kilo_error_set(err, EINVAL,
					      "store \"%s\": a password never goes in the URI: use password-file=FILE",
					      uri);
		if (which < 0)
			return kilo_error_set(
				err, EINVAL,
				"store \"%s\": parameter \"%.*s\" is not one of cacert, cert, key, user, password-file",
				uri, (int)name_len, at);
		if (!eq || eq + 1 == at + n)
			return kilo_error_set(err, EINVAL, "store \"%s\": parameter \"%s\" has no value (%s=...)", uri,
					      param_names[which], param_names[which]);
		if (params->values[which])
			return kilo_error_set(err, EINVAL, "store \"%s\": parameter \"%s\" is given twice", uri,
					      param_names[which]);
		params->values[which] = strndup(eq + 1, (size_t)(at + n - eq - 1));
		if (!params->values[which])
			return -ENOMEM;
		at += n;
		if (*at == '&')
			at++;
	}
	return 0;
}

/* The option, if given, else the URI's parameter (moved out of params). */
static int take(char **out, const char *option, char **param)
{
	if (option) {
		*out = strdup(option);
		return *out ? 0 : -ENOMEM;
	}
	*out = *param;
	*param = NULL;
	return 0;
}

static int read_password(const char *uri, const char *path, char **out, struct kilo_error *err)
{
	char text[PASSWORD_MAX + 1];
	size_t len = 0;
	ssize_t n;
	int fd, r = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return kilo_error_set(err, errno, "store \"%s\": password-file \"%s\": %s", uri, path,
				      strerror(errno));
	do {
		n = read(fd, text + len, sizeof(text) - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = kilo_error_set(err, errno, "store \"%s\": password-file \"%s\": %s", uri, path,
					   strerror(errno));
			goto out;
		}
		len += (size_t)n;
	} while (n > 0 && len < sizeof(text));
	if (len > PASSWORD_MAX) {
		r = kilo_error_set(err, EINVAL, "store \"%s\": password-file \"%s\" holds more than %d bytes", uri,
				   path, PASSWORD_MAX);
		goto out;
	}
	/* The file's last line break is not part of the password (echo pw > file). */
	if (len > 0 && text[len - 1] == '\n')
		len--;
	if (len > 0 && text[len - 1] == '\r')
		len--;
	if (len == 0 || memchr(text, '\0', len)) {
		r = kilo_error_set(err, EINVAL, "store \"%s\": password-file \"%s\" holds no password", uri, path);
		goto out;
	}
	*out = strndup(text, len);
	if (!*out)
		r = -ENOMEM;
out:
	sodium_memzero(text, sizeof(text));
	close(fd);
	return r;
}

static int check_config(const char *uri, const struct kilo_etcd_config *c, const char *password_file,
			struct kilo_error *err)
{
	if (!c->tls && (c->cacert || c->cert || c->key))
		return kilo_error_set(err, EINVAL, "store \"%s\": %s is for TLS: use etcds://", uri,
				      c->cacert ? "cacert" : c->cert ? "cert" : "key");
	if (!c->cert != !c->key)
		return kilo_error_set(err, EINVAL, "store \"%s\": %s is given without %s", uri,
				      c->cert ? "cert" : "key", c->cert ? "key" : "cert");
	if (!c->user != !password_file)
		return kilo_error_set(err, EINVAL, "store \"%s\": %s is given without %s", uri,
				      c->user ? "user" : "password-file", c->user ? "password-file" : "user");
	return 0;
}

int kilo_etcd_config_parse(const char *uri, const struct kilo_store_opts *opts, struct kilo_etcd_config *out,
			   struct kilo_error *err)
{
	struct uri_params params = { 0 };
	char *password_file = NULL;
	const char *rest, *end, *slash, *query;
	int r;

	memset(out, 0, sizeof(*out));
	out->timeout_ms = KILO_ETCD_DEFAULT_TIMEOUT_MS;
	if (!uri)
		return kilo_error_set(err, EINVAL, "store: no URI given");
	if (!strncmp(uri, "etcd://", 7)) {
		rest = uri + 7;
	} else if (!strncmp(uri, "etcds://", 8)) {
		rest = uri + 8;
		out->tls = true;
	} else {
		return kilo_error_set(err, EINVAL, "store \"%s\": not an etcd URI (etcd://HOST:PORT or etcds://...)",
				      uri);
	}
	query = strchr(rest, '?');
	end = query ? query : rest + strlen(rest);
	slash = memchr(rest, '/', (size_t)(end - rest));
	r = parse_endpoints(uri, rest, (size_t)((slash ? slash : end) - rest), out->tls, out, err);
	if (r < 0)
		goto out;
	if (slash)
		r = parse_cluster(uri, slash + 1, (size_t)(end - slash - 1), out, err);
	else
		r = (out->cluster = strdup(KILO_ETCD_DEFAULT_CLUSTER)) ? 0 : -ENOMEM;
	if (r < 0)
		goto out;
	if (query) {
		r = parse_params(uri, query + 1, &params, err);
		if (r < 0)
			goto out;
	}
	if ((r = take(&out->cacert, opts ? opts->etcd_cacert : NULL, &params.values[PARAM_CACERT])) < 0 ||
	    (r = take(&out->cert, opts ? opts->etcd_cert : NULL, &params.values[PARAM_CERT])) < 0 ||
	    (r = take(&out->key, opts ? opts->etcd_key : NULL, &params.values[PARAM_KEY])) < 0 ||
	    (r = take(&out->user, opts ? opts->etcd_user : NULL, &params.values[PARAM_USER])) < 0 ||
	    (r = take(&password_file, opts ? opts->etcd_password_file : NULL,
		      &params.values[PARAM_PASSWORD_FILE])) < 0)
		goto out;
	r = check_config(uri, out, password_file, err);
	if (r < 0)
		goto out;
	if (password_file)
		r = read_password(uri, password_file, &out->password, err);
out:
	for (int i = 0; i < PARAM_N; i++)
		free(params.values[i]);
	free(password_file);
	if (r == -ENOMEM)
		kilo_error_set(err, ENOMEM, "store \"%s\": out of memory", uri);
	return r;
}

void kilo_etcd_config_clear(struct kilo_etcd_config *config)
{
	if (!config)
		return;
	for (size_t i = 0; config->endpoints && i < config->n_endpoints; i++)
		free(config->endpoints[i]);
	free(config->endpoints);
	free(config->cluster);
	free(config->cacert);
	free(config->cert);
	free(config->key);
	free(config->user);
	if (config->password) {
		sodium_memzero(config->password, strlen(config->password));
		free(config->password);
	}
	memset(config, 0, sizeof(*config));
}
