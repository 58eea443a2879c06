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

/*
 * BLAKE2b costs far more per update than per byte, and a plan of 10,000
 * nodes has tens of thousands of small fields: they are gathered into
 * buf and hashed a few kilobytes at a time.
 */
struct memo_hash {
	crypto_generichash_state st;
	size_t used;
	unsigned char buf[4096];
};

static void hash_flush(struct memo_hash *h)
{
	crypto_generichash_update(&h->st, h->buf, h->used);
	h->used = 0;
}

static void hash_bytes(struct memo_hash *h, const void *p, size_t n)
{
	if (h->used + n > sizeof(h->buf))
		hash_flush(h);
	if (n > sizeof(h->buf)) {
		crypto_generichash_update(&h->st, p, n);
		return;
	}
	memcpy(h->buf + h->used, p, n);
	h->used += n;
}

static void hash_init(struct memo_hash *h)
{
	crypto_generichash_init(&h->st, NULL, 0, 32);
	h->used = 0;
}

static void hash_final(struct memo_hash *h, unsigned char out[32])
{
	hash_flush(h);
	crypto_generichash_final(&h->st, out, 32);
}

/* Each string starts with one of these, so that no two sequences of strings hash alike. */
enum text_tag { TEXT_FOLLOWS, TEXT_NULL, TEXT_AS_BEFORE };

static void hash_text(struct memo_hash *st, const char *text)
{
	unsigned char tag = text ? TEXT_FOLLOWS : TEXT_NULL;

	hash_bytes(st, &tag, 1);
	/* The NUL separates the string from what follows. */
	if (text)
		hash_bytes(st, text, strlen(text) + 1);
}

/*
 * A string that is the very one the rule before had there (the same
 * pointer, most often a literal shared by thousands of rules) hashes as
 * one tag. The plan's text can still be read back from what was hashed,
 * so different plans never hash alike; equal plans hash alike as long as
 * they share their strings the same way, and when they do not, the memo
 * only sends again what it could have skipped.
 */
static void hash_text_after(struct memo_hash *st, const char *text, const char *before)
{
	static const unsigned char as_before = TEXT_AS_BEFORE;

	if (text && text == before)
		hash_bytes(st, &as_before, 1);
	else
		hash_text(st, text);
}

static void hash_addr(struct memo_hash *st, const struct kilo_addr *a)
{
	/* Only the bytes the family uses: most of a plan is IPv4, and BLAKE2b's cost is per byte here. */
	hash_bytes(st, &a->family, sizeof(a->family));
	hash_bytes(st, a->bytes, a->family == 4 ? 4 : a->family == 6 ? sizeof(a->bytes) : 0);
}

static void hash_cidr(struct memo_hash *st, const struct kilo_cidr *c)
{
	hash_addr(st, &c->addr);
	hash_bytes(st, &c->prefix, sizeof(c->prefix));
}

void kilo_apply_memo_routes(const struct kilo_route *routes, size_t n, unsigned char out[32])
{
	struct memo_hash st;

	hash_init(&st);
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
	hash_final(&st, out);
}

void kilo_apply_memo_rules(const struct kilo_rule *rules, size_t n, unsigned char out[32])
{
	struct memo_hash st;

	hash_init(&st);
	for (size_t i = 0; i < n; i++) {
		hash_cidr(&st, &rules[i].src);
		hash_cidr(&st, &rules[i].dst);
		hash_bytes(&st, &rules[i].table, sizeof(rules[i].table));
		hash_text(&st, rules[i].iif);
	}
	hash_final(&st, out);
}

void kilo_apply_memo_nat(const struct kilo_nat_rule *rules, size_t n, unsigned char out[32])
{
	struct memo_hash st;

	hash_init(&st);
	for (size_t i = 0; i < n; i++) {
		const struct kilo_nat_rule *r = &rules[i], *before = i ? &rules[i - 1] : &(struct kilo_nat_rule){ 0 };
		uint8_t fields[5] = { (uint8_t)r->kind, (uint8_t)r->list, r->family, r->ipip, r->comment_first };

		hash_bytes(&st, fields, sizeof(fields));
		hash_text_after(&st, r->table, before->table);
		hash_text_after(&st, r->chain, before->chain);
		hash_cidr(&st, &r->src);
		hash_cidr(&st, &r->dst);
		hash_text_after(&st, r->comment, before->comment);
		hash_text_after(&st, r->target, before->target);
	}
	hash_final(&st, out);
}
