/* SPDX-License-Identifier: Apache-2.0 */
/* libkilo: a WireGuard mesh between the nodes of a cluster, compatible with Kilo. */
#ifndef KILO_KILO_H
#define KILO_KILO_H

#include <kilo/agent.h>
#include <kilo/core.h>
#include <kilo/mesh.h>
#include <kilo/net.h>
#include <kilo/serial.h>
#include <kilo/store.h>
#include <kilo/topology.h>
#include <kilo/version.h>
#include <kilo/wg.h>
#include <kilo/wgconf.h>

#endif
