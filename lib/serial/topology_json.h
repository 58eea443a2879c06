/* SPDX-License-Identifier: Apache-2.0 */
/* The JSON view of a solved topology, shared by the topology and plan outputs. */
#ifndef KILO_LIB_SERIAL_TOPOLOGY_JSON_H
#define KILO_LIB_SERIAL_TOPOLOGY_JSON_H

#include <jansson.h>

#include "../topology/model.h"

/* The topology object (see kilo_topology_to_json); NULL when out of memory. */
json_t *kilo_topology_json(const struct kilo_topology *t);

#endif
