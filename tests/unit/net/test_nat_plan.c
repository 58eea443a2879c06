/* SPDX-License-Identifier: Apache-2.0 */
/* Kilo's rule lists translated to nftables chains, checked without a kernel. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include <linux/netfilter.h>

#include "net/internal.h"

static struct kilo_nat_rule rule(enum kilo_nat_list list, uint8_t family, const char *table, const char *chain,
				 const char *dst, const char *comment, const char *target)
{
	struct kilo_nat_rule r = { .kind = KILO_NAT_RULE, .list = list, .family = family, .table = table,
				   .chain = chain, .comment = comment, .target = target };

	if (dst)
		assert_int_equal(kilo_cidr_parse(dst, &r.dst, NULL), 0);
	return r;
}

static struct kilo_nat_rule chain(uint8_t family, const char *table, const char *name)
{
	return (struct kilo_nat_rule){ .kind = KILO_NAT_CHAIN, .family = family, .table = table, .chain = name };
}

static const struct nat_plan_chain *find(const struct nat_plan_table *t, const char *name)
{
	for (size_t i = 0; i < t->n_chains; i++) {
		if (strcmp(t->chains[i].name, name) == 0)
			return &t->chains[i];
	}
	fail_msg("no chain %s", name);
	return NULL;
}

static void test_prepends_come_last_first_then_appends_in_order(void **state)
{
	struct kilo_nat_rule rules[] = {
		chain(4, "nat", "KILO-NAT"),
		rule(KILO_NAT_APPEND, 4, "nat", "KILO-NAT", "10.96.0.0/12", "service", "RETURN"),
		rule(KILO_NAT_APPEND, 4, "nat", "KILO-NAT", NULL, "rest", "MASQUERADE"),
		rule(KILO_NAT_PREPEND, 4, "nat", "KILO-NAT", "10.4.0.1/32", "first prepend", "RETURN"),
		rule(KILO_NAT_PREPEND, 4, "nat", "KILO-NAT", "10.2.2.0/24", "second prepend", "RETURN"),
		rule(KILO_NAT_PREPEND, 4, "nat", "POSTROUTING", "10.2.1.0/24", "jump", "KILO-NAT"),
	};
	static const char *const order[] = { "second prepend", "first prepend", "service", "rest" };
	const struct nat_plan_chain *c;
	struct kilo_error err = { 0 };
	struct nat_plan plan;

	(void)state;
	assert_int_equal(kilo__nat_plan_build(rules, 6, &plan, &err), 0);
	assert_int_equal(plan.tables[0].n_chains, 2);
	assert_int_equal(plan.tables[1].n_chains, 0);
	c = find(&plan.tables[0], "KILO-NAT");
	assert_null(c->type);
	assert_int_equal(c->n_rules, 4);
	for (size_t i = 0; i < 4; i++)
		assert_string_equal(c->rules[i].source->comment, order[i]);
	assert_int_equal(c->rules[3].verdict, NAT_MASQUERADE);
	c = find(&plan.tables[0], "postrouting");
	assert_string_equal(c->type, "nat");
	assert_int_equal(c->hook, NF_INET_POST_ROUTING);
	assert_int_equal(c->priority, 100);
	assert_int_equal(c->rules[0].verdict, NAT_JUMP);
	assert_string_equal(c->rules[0].jump, "KILO-NAT");
	kilo__nat_plan_free(&plan);
}

static void test_families_get_their_own_tables(void **state)
{
	struct kilo_nat_rule rules[] = {
		chain(4, "filter", "KILO-IPIP"),
		chain(6, "filter", "KILO-IPIP"),
		rule(KILO_NAT_APPEND, 6, "filter", "INPUT", NULL, "jump", "KILO-IPIP"),
		rule(KILO_NAT_APPEND, 6, "filter", "INPUT", NULL, "drop", "DROP"),
		rule(KILO_NAT_PREPEND, 4, "filter", "FORWARD", "10.2.1.0/24", "forward", "ACCEPT"),
	};
	const struct nat_plan_chain *c;
	struct kilo_error err = { 0 };
	struct nat_plan plan;

	(void)state;
	assert_int_equal(kilo__nat_plan_build(rules, 5, &plan, &err), 0);
	c = find(&plan.tables[1], "input");
	assert_int_equal(c->hook, NF_INET_LOCAL_IN);
	assert_int_equal(c->n_rules, 2);
	assert_int_equal(c->rules[1].verdict, NAT_DROP);
	c = find(&plan.tables[0], "forward");
	assert_string_equal(c->type, "filter");
	assert_int_equal(c->rules[0].verdict, NAT_ACCEPT);
	assert_int_equal(find(&plan.tables[0], "KILO-IPIP")->n_rules, 0);
	kilo__nat_plan_free(&plan);
}

static void assert_rejected(struct kilo_nat_rule *rules, size_t n, const char *message)
{
	struct kilo_error err = { 0 };
	struct nat_plan plan;

	assert_int_equal(kilo__nat_plan_build(rules, n, &plan, &err), -EINVAL);
	assert_string_equal(err.message, message);
	/* What kilo_apply checks before it changes the host: the same answer, without a host. */
	memset(&err, 0, sizeof(err));
	assert_int_equal(kilo_net_nat_check(rules, n, &err), -EINVAL);
	assert_string_equal(err.message, message);
}

static void test_rule_in_a_chain_never_created_is_rejected(void **state)
{
	struct kilo_nat_rule rules[] = { rule(KILO_NAT_APPEND, 4, "nat", "KILO-NAT", NULL, "x", "RETURN") };

	(void)state;
	assert_rejected(rules, 1, "rules[0]: chain KILO-NAT of table nat is never created");
}

static void test_jump_to_an_unknown_chain_is_rejected(void **state)
{
	struct kilo_nat_rule rules[] = {
		chain(4, "filter", "KILO-IPIP"),
		rule(KILO_NAT_APPEND, 4, "nat", "POSTROUTING", NULL, "x", "KILO-IPIP"),
	};

	(void)state;
	assert_rejected(rules, 2, "rules[1]: target KILO-IPIP is not a chain of table nat");
}

static void test_address_of_the_other_family_is_rejected(void **state)
{
	struct kilo_nat_rule rules[] = { rule(KILO_NAT_APPEND, 6, "nat", "POSTROUTING", "10.0.0.0/8", "x", "RETURN") };

	(void)state;
	assert_rejected(rules, 1, "rules[0]: an address is not of family 6");
}

static void test_builtin_chain_without_translation_is_rejected(void **state)
{
	struct kilo_nat_rule rules[] = { rule(KILO_NAT_APPEND, 4, "nat", "INPUT", NULL, "x", "RETURN") };

	(void)state;
	assert_rejected(rules, 1, "rules[0]: chain INPUT of table nat has no nftables translation");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_prepends_come_last_first_then_appends_in_order),
		cmocka_unit_test(test_families_get_their_own_tables),
		cmocka_unit_test(test_rule_in_a_chain_never_created_is_rejected),
		cmocka_unit_test(test_jump_to_an_unknown_chain_is_rejected),
		cmocka_unit_test(test_address_of_the_other_family_is_rejected),
		cmocka_unit_test(test_builtin_chain_without_translation_is_rejected),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
