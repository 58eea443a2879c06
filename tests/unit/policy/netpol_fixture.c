// SPDX-License-Identifier: Apache-2.0
#include "netpol_fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *j(const char *text)
{
	char *copy = strdup(text);

	for (char *p = copy; p && *p; p++)
		if (*p == '\'')
			*p = '"';
	return copy;
}

kilo_mesh *fixture_mesh_at(const char *n1_location)
{
	char json[1024], *text;
	kilo_mesh *mesh = NULL;

	snprintf(json, sizeof(json),
		 "{'version': 1, 'settings': {'subnet': '10.4.0.0/16'}, 'nodes': ["
		 " {'name': 'n1', 'location': '%s', 'endpoint': '198.51.100.1:51820', 'internalIP': '192.168.0.1/24',"
		 "  'podCIDR': '10.2.1.0/24', 'publicKey': 'rWVtBbe4cKjQb3nY8f9n5JvYVRttWJKWe5AD1IHs3B4='},"
		 " {'name': 'n2', 'location': 'us', 'endpoint': '198.51.100.2:51820', 'internalIP': '192.168.1.1/24',"
		 "  'podCIDR': '10.2.2.0/24', 'publicKey': 'BJdK6eoY0OtLvxHLBKgyZrfJJN8p+8GT9yMJkAu5d1w='}],"
		 " 'peers': [{'name': 'laptop', 'publicKey': 'vyWBFrXwHpLXUT2h0+2M+d2YtLqLQHdL89yafPfCZig=',"
		 "  'allowedIPs': ['10.5.0.1/32']}]}",
		 n1_location);
	text = j(json);
	if (text)
		kilo_mesh_from_json(text, strlen(text), &mesh, NULL);
	free(text);
	return mesh;
}

kilo_mesh *fixture_mesh(void)
{
	return fixture_mesh_at("eu");
}

#define POD(ns, name, node, ip, labels, ports)                                                                   \
	"{'metadata': {'namespace': '" ns "', 'name': '" name "', 'labels': " labels "},"                           \
	" 'spec': {'nodeName': '" node "', 'containers': [{'name': 'c', 'ports': " ports "}]},"                   \
	" 'status': {'podIP': '" ip "', 'podIPs': [{'ip': '" ip "'}]}}"

const char fixture_pods[] =
	"[" POD("prod", "web", "n1", "10.2.1.10", "{'app': 'web'}",
		"[{'name': 'http', 'containerPort': 8080}, {'name': 'dns', 'containerPort': 53, 'protocol': 'UDP'}]")
	"," POD("prod", "client", "n1", "10.2.1.11", "{'app': 'client'}", "[]")
	"," POD("dev", "tool", "n1", "10.2.1.12", "{'app': 'tool', 'role': 'x'}", "[{'name': 'http', 'containerPort': 9090}]")
	"," POD("prod", "db", "n2", "10.2.2.10", "{'app': 'db'}", "[{'name': 'pg', 'containerPort': 5432}]")
	"," POD("dev", "client", "n2", "10.2.2.11", "{'app': 'client'}", "[]") "]";

const char fixture_namespaces[] = "[{'metadata': {'name': 'prod', 'labels': {'team': 'a'}}},"
				  " {'metadata': {'name': 'dev', 'labels': {'team': 'b'}}}]";

const char fixture_peers[] = "[{'metadata': {'name': 'laptop', 'labels': {'team': 'ops'}}}]";
