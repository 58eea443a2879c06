/* SPDX-License-Identifier: Apache-2.0 */
#include "jsonval.h"

#include <errno.h>

json_t *kilo_jsonval_cidr(const struct kilo_cidr *cidr)
{
	char text[KILO_CIDR_STRLEN];

	if (!cidr->addr.family)
		return json_null();
	kilo_cidr_format(cidr, text);
	return json_string(text);
}

json_t *kilo_jsonval_addr(const struct kilo_addr *addr)
{
	char text[KILO_ADDR_STRLEN];

	if (!addr->family)
		return json_null();
	kilo_addr_format(addr, text);
	return json_string(text);
}

json_t *kilo_jsonval_endpoint(const struct kilo_endpoint *ep)
{
	char text[KILO_ENDPOINT_STRLEN];

	if (!kilo_endpoint_is_set(ep))
		return json_null();
	kilo_endpoint_format(ep, text);
	return json_string(text);
}

json_t *kilo_jsonval_key(const struct kilo_key *key)
{
	char text[KILO_KEY_B64_LEN + 1];

	kilo_key_format(key, text);
	return json_string(text);
}

json_t *kilo_jsonval_cidrs(const struct kilo_cidr *cidrs, size_t n)
{
	json_t *list = json_array();

	for (size_t i = 0; list && i < n; i++) {
		if (kilo_jsonval_append(list, kilo_jsonval_cidr(&cidrs[i])) < 0) {
			json_decref(list);
			return NULL;
		}
	}
	return list;
}

int kilo_jsonval_set(json_t *object, const char *key, json_t *value)
{
	if (!value)
		return -ENOMEM;
	return json_object_set_new(object, key, value) < 0 ? -ENOMEM : 0;
}

int kilo_jsonval_append(json_t *array, json_t *value)
{
	if (!value)
		return -ENOMEM;
	return json_array_append_new(array, value) < 0 ? -ENOMEM : 0;
}
