/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libkilo: a WireGuard mesh between the nodes of a cluster, compatible with Kilo.
 *
 * Threads. No handle (kilo_mesh, kilo_topology, kilo_store, kilo_agent,
 * kilo_wg, kilo_net) has a lock: one thread at a time may use a handle, and
 * different handles may be used on different threads at once. Calls that
 * take a handle const (solving a mesh, rendering a topology, reading a
 * mesh's fields) may share it between threads while no call changes it.
 * Functions without a handle (parsing, keys, formatting) are thread-safe.
 * The library keeps no global state of its own; libsodium and libcurl are
 * initialised on first use, in ways that are safe from any thread.
 *
 * Threads the library starts:
 * - kilo_agent_new: one thread that looks up endpoint DNS names, so that
 *   the agent's loop never waits on DNS; it ends after kilo_agent_free,
 *   once a lookup under way returns. IP discovery in kilo_agent_new also
 *   uses getaddrinfo_a, which glibc runs on threads of its own.
 * - the etcd store: libcurl may resolve its endpoints' names on a thread.
 *
 * Processes the library starts (with posix_spawn; it reaps them itself):
 * - the userspace WireGuard backend (KILO_WG_BACKEND_USERSPACE): wireguard-go, in a
 *   session of its own, so that the device outlives the terminal or the
 *   service that started it;
 * - kilo_graph_render: Graphviz's dot, for the time of the call.
 *
 * Signals: the library installs no handler and blocks none. Writes to
 * sockets never raise SIGPIPE. A caller that sets SIGCHLD to SIG_IGN
 * still works: the library treats a child already reaped as gone.
 */
#ifndef KILO_KILO_H
#define KILO_KILO_H

#include <kilo/agent.h>
#include <kilo/bpf.h>
#include <kilo/core.h>
#include <kilo/manifest.h>
#include <kilo/mesh.h>
#include <kilo/net.h>
#include <kilo/plan.h>
#include <kilo/policy.h>
#include <kilo/serial.h>
#include <kilo/services.h>
#include <kilo/store.h>
#include <kilo/topology.h>
#include <kilo/version.h>
#include <kilo/wg.h>
#include <kilo/wgconf.h>

#endif
