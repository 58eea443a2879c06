/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A small cluster for the network policy tests: two nodes in two
 * locations, two namespaces, five pods and a VPN peer, in JSON written
 * with single quotes (j() turns them into double quotes).
 *
 *   node n1 (location eu, 192.168.0.1)   node n2 (location us, 192.168.1.1)
 *   prod/web    10.2.1.10 app=web   ports http 8080/TCP, dns 53/UDP
 *   prod/client 10.2.1.11 app=client
 *   dev/tool    10.2.1.12 app=tool role=x ports http 9090/TCP
 *   prod/db     10.2.2.10 app=db    ports pg 5432/TCP
 *   dev/client  10.2.2.11 app=client
 *   peer laptop 10.5.0.1/32 (Peer object labels: team=ops)
 *   namespace prod (team=a), dev (team=b)
 */
#ifndef KILO_TESTS_POLICY_NETPOL_FIXTURE_H
#define KILO_TESTS_POLICY_NETPOL_FIXTURE_H

#include <kilo/mesh.h>

/* text with every ' turned into "; a new string (free it). */
char *j(const char *text);

/* The fixture's mesh (n1, n2, laptop); free with kilo_mesh_free. */
kilo_mesh *fixture_mesh(void);
/* The same with n1 in location n1_location. */
kilo_mesh *fixture_mesh_at(const char *n1_location);

extern const char fixture_pods[];
extern const char fixture_namespaces[];
extern const char fixture_peers[];

#endif
