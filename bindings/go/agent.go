// SPDX-License-Identifier: Apache-2.0

package kilo

/*
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <kilo/kilo.h>

void kilo_go_agent_log(void *ctx, enum kilo_log_level level, const char *message);

static void kilo_go_agent_set_log(struct kilo_agent_opts *opts, uintptr_t handle)
{
	opts->log = kilo_go_agent_log;
	opts->log_ctx = (void *)handle;
}

// Waits until the agent's fd or wake is readable, or timeout_ms passes; 0 or -errno.
static int kilo_go_agent_wait(int agent_fd, int wake, int timeout_ms)
{
	struct pollfd fds[2] = { { .fd = agent_fd, .events = POLLIN }, { .fd = wake, .events = POLLIN } };

	return poll(fds, 2, timeout_ms) < 0 && errno != EINTR ? -errno : 0;
}
*/
import "C"

import (
	"context"
	"runtime"
	"runtime/cgo"
	"strings"
	"sync"
	"syscall"
	"time"
)

// ApplyOptions say how an agent applies its plan to the host (kg's flags);
// the zero value means the library's defaults.
type ApplyOptions struct {
	Interface         string // the WireGuard link; "": kilo0
	WireGuardBackend  string // "auto", "kernel" or "userspace"; "": auto
	UserspaceProgram  string // e.g. "wireguard-go", started for a missing device
	SocketDir         string // UAPI sockets; "": /var/run/wireguard
	NoLocal           bool   // kg's --local=false
	Encapsulate       string // "always", "crosssubnet" or "never"; "": always
	Compatibility     string // "flannel" or "cilium"; "": plain IPIP
	TunnelInterface   string // "": tunl0
	NoCNI             bool   // kg's --cni=false
	ForwardRules      bool   // kg's --iptables-forward-rules
	MTU               uint32 // 0: 1420
	NoCreateInterface bool   // kg's --create-interface=false
	CleanUpInterface  bool   // kg's --clean-up-interface
}

// AgentOptions are the options of NewAgent: kg's flags. "" and 0 mean the
// library's defaults.
type AgentOptions struct {
	Store     string // "file:DIR" or an etcd URI
	Hostname  string // this node's name
	KeyPath   string // the private key; created (0600) if missing
	Apply     *ApplyOptions
	StoreOpts *StoreOptions
	// The mesh settings every agent must agree on.
	Granularity Granularity
	Subnet      string // "": 10.4.0.0/16
	Port        uint16 // 0: 51820
	// This node's own settings.
	Location            string
	PodCIDR             string
	Leader              bool
	ForceEndpoint       string // ip:port or name:port
	ForceInternalIP     string // a CIDR
	PersistentKeepalive time.Duration
	AllowedLocationIPs  []string
	// Discovery of this node's IPs.
	InternalCIDRs              []string
	PrioritisePrivateAddresses bool
	// Timing; 0: 2s, 6s and 30s.
	CheckInPeriod time.Duration
	ReadyWindow   time.Duration
	ResyncPeriod  time.Duration
	CNIPath       string   // write the CNI configuration here; "": none
	NoCleanUp     bool     // kg's --clean-up=false
	ServiceCIDRs  []string // not masqueraded
	// Log receives what the agent changed and left out, on the goroutine
	// that called into it; it must not call the Agent's methods.
	Log func(level LogLevel, message string)
}

// Agent is kg's reconcile loop for this node. Run steps it until its
// context is done; its calls are serialised with a mutex.
type Agent struct {
	mu     sync.Mutex
	c      *C.kilo_agent
	log    cgo.Handle // 0: none
	wake   [2]int     // a pipe: Close wakes a Run that waits
	runs   sync.WaitGroup
	closed bool
}

func (o *ApplyOptions) c(allocs *cAllocs) (*C.struct_kilo_apply_opts, error) {
	if o == nil {
		return nil, nil
	}
	c := (*C.struct_kilo_apply_opts)(allocs.zeroed(C.sizeof_struct_kilo_apply_opts))
	c.sz = C.sizeof_struct_kilo_apply_opts
	c._interface = allocs.str(o.Interface)
	if o.WireGuardBackend != "" || o.UserspaceProgram != "" || o.SocketDir != "" {
		wg := (*C.struct_kilo_wg_opts)(allocs.zeroed(C.sizeof_struct_kilo_wg_opts))
		wg.sz = C.sizeof_struct_kilo_wg_opts
		if err := parseEnum(o.WireGuardBackend, "backend", func(text *C.char, cerr *C.struct_kilo_error) C.int {
			return C.kilo_wg_backend_parse(text, &wg.backend, cerr)
		}); err != nil {
			return nil, err
		}
		wg.userspace_program = allocs.str(o.UserspaceProgram)
		wg.socket_dir = allocs.str(o.SocketDir)
		c.wg = wg
	}
	c.no_local = C.bool(o.NoLocal)
	if err := parseEnum(o.Encapsulate, "encapsulate", func(text *C.char, cerr *C.struct_kilo_error) C.int {
		return C.kilo_encapsulate_parse(text, &c.encapsulate, cerr)
	}); err != nil {
		return nil, err
	}
	if err := parseEnum(o.Compatibility, "compatibility", func(text *C.char, cerr *C.struct_kilo_error) C.int {
		return C.kilo_compatibility_parse(text, &c.compatibility, cerr)
	}); err != nil {
		return nil, err
	}
	c.tunnel_interface = allocs.str(o.TunnelInterface)
	c.no_cni = C.bool(o.NoCNI)
	c.forward_rules = C.bool(o.ForwardRules)
	c.mtu = C.uint32_t(o.MTU)
	c.no_create_interface = C.bool(o.NoCreateInterface)
	c.clean_up_interface = C.bool(o.CleanUpInterface)
	return c, nil
}

// parseEnum runs a libkilo enum parser on text unless it is "" (the default).
func parseEnum(text, what string, parse func(*C.char, *C.struct_kilo_error) C.int) error {
	if text == "" {
		return nil
	}
	var allocs cAllocs
	defer allocs.free()
	var cerr C.struct_kilo_error
	if r := parse(allocs.str(text), &cerr); r < 0 {
		return newError(r, &cerr, what)
	}
	return nil
}

func (o *AgentOptions) c(allocs *cAllocs) (*C.struct_kilo_agent_opts, error) {
	c := (*C.struct_kilo_agent_opts)(allocs.zeroed(C.sizeof_struct_kilo_agent_opts))
	c.sz = C.sizeof_struct_kilo_agent_opts
	c.store = allocs.str(o.Store)
	c.hostname = allocs.str(o.Hostname)
	c.key_path = allocs.str(o.KeyPath)
	apply, err := o.Apply.c(allocs)
	if err != nil {
		return nil, err
	}
	c.apply = apply
	c.store_opts = o.StoreOpts.c(allocs)
	if o.Granularity != "" {
		if c.granularity, err = parseGranularity(o.Granularity); err != nil {
			return nil, err
		}
	}
	c.subnet = allocs.str(o.Subnet)
	c.port = C.uint16_t(o.Port)
	c.location = allocs.str(o.Location)
	c.pod_cidr = allocs.str(o.PodCIDR)
	c.leader = C.bool(o.Leader)
	c.force_endpoint = allocs.str(o.ForceEndpoint)
	c.force_internal_ip = allocs.str(o.ForceInternalIP)
	c.persistent_keepalive = seconds(o.PersistentKeepalive)
	c.allowed_location_ips = allocs.str(strings.Join(o.AllowedLocationIPs, ","))
	c.internal_cidrs, c.n_internal_cidrs = allocs.strs(o.InternalCIDRs)
	c.prioritise_private_addresses = C.bool(o.PrioritisePrivateAddresses)
	c.check_in_period = seconds(o.CheckInPeriod)
	c.ready_window = seconds(o.ReadyWindow)
	c.resync_period = seconds(o.ResyncPeriod)
	c.cni_path = allocs.str(o.CNIPath)
	c.no_clean_up = C.bool(o.NoCleanUp)
	c.service_cidrs, c.n_service_cidrs = allocs.strs(o.ServiceCIDRs)
	return c, nil
}

// NewAgent loads or creates the key, discovers this node's IPs, publishes
// the node to the store and applies the mesh once. It needs root (or
// CAP_NET_ADMIN) and a WireGuard backend.
func NewAgent(opts AgentOptions) (*Agent, error) {
	var allocs cAllocs
	defer allocs.free()
	copts, err := opts.c(&allocs)
	if err != nil {
		return nil, err
	}
	a := &Agent{wake: [2]int{-1, -1}}
	if err := syscall.Pipe2(a.wake[:], syscall.O_CLOEXEC|syscall.O_NONBLOCK); err != nil {
		return nil, &Error{Code: err.(syscall.Errno), Message: "agent: pipe: " + err.Error()}
	}
	if opts.Log != nil {
		a.log = cgo.NewHandle(opts.Log)
		C.kilo_go_agent_set_log(copts, C.uintptr_t(a.log))
	}
	var cerr C.struct_kilo_error
	if r := C.kilo_agent_new(copts, &a.c, &cerr); r < 0 {
		a.release()
		return nil, newError(r, &cerr, "agent")
	}
	runtime.SetFinalizer(a, (*Agent).Close)
	return a, nil
}

// release frees what the Agent holds besides the C agent.
func (a *Agent) release() {
	syscall.Close(a.wake[0])
	syscall.Close(a.wake[1])
	if a.log != 0 {
		a.log.Delete()
	}
}

// Close stops the agent: it wakes and waits for Run, then frees the agent,
// which (unless NoCleanUp) removes this node from the store and what it
// applied. Closing twice is harmless.
func (a *Agent) Close() error {
	a.mu.Lock()
	if a.closed {
		a.mu.Unlock()
		return nil
	}
	a.closed = true
	a.mu.Unlock()
	syscall.Write(a.wake[1], []byte{0})
	a.runs.Wait()
	a.mu.Lock()
	defer a.mu.Unlock()
	C.kilo_agent_free(a.c)
	a.c = nil
	a.release()
	runtime.SetFinalizer(a, nil)
	return nil
}

// Step handles what is pending (store changes, names looked up,
// heartbeats, resyncs) and reconciles where needed, for a caller with a
// loop of its own; Run calls it.
func (a *Agent) Step() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return closedError("agent")
	}
	var cerr C.struct_kilo_error
	if r := C.kilo_agent_step(a.c, &cerr); r < 0 {
		return newError(r, &cerr, "agent step")
	}
	return nil
}

// Run steps the agent whenever its fd is readable or its timeout passes,
// until ctx is done (it returns ctx.Err()) or the agent is closed. A
// step's error is reported through Log and counted in the metrics; the
// agent keeps going, as kg does.
func (a *Agent) Run(ctx context.Context) error {
	a.mu.Lock()
	if a.closed {
		a.mu.Unlock()
		return closedError("agent")
	}
	a.runs.Add(1)
	fd := C.kilo_agent_fd(a.c)
	a.mu.Unlock()
	defer a.runs.Done()

	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case <-ctx.Done():
			syscall.Write(a.wake[1], []byte{0})
		case <-done:
		}
	}()
	for {
		a.mu.Lock()
		timeout := C.kilo_agent_timeout_ms(a.c)
		a.mu.Unlock()
		if r := C.kilo_go_agent_wait(fd, C.int(a.wake[0]), timeout); r < 0 {
			return &Error{Code: syscall.Errno(-r), Message: "agent: poll: " + syscall.Errno(-r).Error()}
		}
		// A wake left by an earlier Run's context would keep poll from waiting.
		a.drainWake()
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := a.Step(); err != nil && a.isClosed() {
			return err
		}
	}
}

func (a *Agent) isClosed() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.closed
}

// drainWake empties the wake pipe, so that poll waits again.
func (a *Agent) drainWake() {
	var buf [64]byte
	for {
		if n, err := syscall.Read(a.wake[0], buf[:]); n <= 0 || err != nil {
			return
		}
	}
}

// Healthy says whether the agent has applied the mesh without error since its last change.
func (a *Agent) Healthy() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return !a.closed && bool(C.kilo_agent_healthy(a.c))
}

// Metrics returns the agent's Prometheus metrics as text.
func (a *Agent) Metrics() (string, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return "", closedError("agent")
	}
	var cerr C.struct_kilo_error
	var out *C.char
	if r := C.kilo_agent_metrics(a.c, &out, &cerr); r < 0 {
		return "", newError(r, &cerr, "agent metrics")
	}
	return takeString(out), nil
}
