// SPDX-License-Identifier: Apache-2.0
/*
 * Digests of the parts of a plan that kilo_apply sends whole (routes,
 * rules, the NAT rule set), so that a caller applying again and again
 * skips the parts that did not change. Fields are hashed one by one, never
 * as struct bytes: padding is not part of a route.
 */
#include "apply.h"

#include <sodium.h>
#include <string.h>

static void hash_bytes(crypto_generichash_state *st, const void *p, size_t n)
{
	crypto_generichash_update(st, p, n);
}

static void hash_text(crypto_generichash_state *st, const char *text)
{
	/* The NUL separates one string from the next; NULL hashes as one byte of its own. */
	static const unsigned char none = 0xff;

	if (text)
		hash_bytes(st, text, strlen(text) + 1);
	else
		hash_bytes(st, &none, 1);
}

static void hash_addr(crypto_generichash_state *st, const struct kilo_addr *a)
{
	hash_bytes(st, &a->family, sizeof(a->family));
	hash_bytes(st, a->bytes, sizeof(a->bytes));
}

static void hash_cidr(crypto_generichash_state *st, const struct kilo_cidr *c)
{
	hash_addr(st, &c->addr);
	hash_bytes(st, &c->prefix, sizeof(c->prefix));
}

void kilo_apply_memo_routes(const struct kilo_route *routes, size_t n, unsigned char out[32])
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, NULL, 0, 32);
	for (size_t i = 0; i < n; i++) {
		const struct kilo_route *r = &routes[i];
		uint8_t flags[2] = { r->onlink, r->protocol };

		hash_cidr(&st, &r->dst);
		hash_addr(&st, &r->gw);
		hash_addr(&st, &r->src);
		hash_bytes(&st, &r->ifindex, sizeof(r->ifindex));
		hash_bytes(&st, &r->table, sizeof(r->table));
		hash_bytes(&st, flags, sizeof(flags));
	}
	crypto_generichash_final(&st, out, 32);
}

void kilo_apply_memo_rules(const struct kilo_rule *rules, size_t n, unsigned char out[32])
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, NULL, 0, 32);
	for (size_t i = 0; i < n; i++) {
		hash_cidr(&st, &rules[i].src);
		hash_cidr(&st, &rules[i].dst);
		hash_bytes(&st, &rules[i].table, sizeof(rules[i].table));
		hash_text(&st, rules[i].iif);
	}
	crypto_generichash_final(&st, out, 32);
}

void kilo_apply_memo_nat(const struct kilo_nat_rule *rules, size_t n, unsigned char out[32])
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, NULL, 0, 32);
	for (size_t i = 0; i < n; i++) {
		const struct kilo_nat_rule *r = &rules[i];
		uint8_t fields[5] = { (uint8_t)r->kind, (uint8_t)r->list, r->family, r->ipip, r->comment_first };

		hash_bytes(&st, fields, sizeof(fields));
		hash_text(&st, r->table);
		hash_text(&st, r->chain);
		hash_cidr(&st, &r->src);
		hash_cidr(&st, &r->dst);
		hash_text(&st, r->comment);
		hash_text(&st, r->target);
	}
	crypto_generichash_final(&st, out, 32);
}
