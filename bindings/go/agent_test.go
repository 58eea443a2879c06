// SPDX-License-Identifier: Apache-2.0

package kilo

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func agentOptions(dir string) AgentOptions {
	return AgentOptions{
		Store:    "file:" + filepath.Join(dir, "store"),
		Hostname: "a",
		KeyPath:  filepath.Join(dir, "key"),
		PodCIDR:  "10.2.1.0/24",
	}
}

func TestNewAgentWithBadOptionsNamesTheField(t *testing.T) {
	for _, tc := range []struct {
		name  string
		edit  func(*AgentOptions)
		words []string
	}{
		{"subnet", func(o *AgentOptions) { o.Subnet = "10.4.0.0/99" }, []string{"10.4.0.0/99"}},
		{"granularity", func(o *AgentOptions) { o.Granularity = "sideways" }, []string{"sideways"}},
		{"encapsulate", func(o *AgentOptions) { o.Apply = &ApplyOptions{Encapsulate: "sometimes"} }, []string{"sometimes"}},
		{"compatibility", func(o *AgentOptions) { o.Apply = &ApplyOptions{Compatibility: "calico"} }, []string{"calico"}},
		{"backend", func(o *AgentOptions) { o.Apply = &ApplyOptions{WireGuardBackend: "quantum"} }, []string{"quantum"}},
		{"store", func(o *AgentOptions) { o.Store = "ftp://example.com" }, []string{"ftp://example.com"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := agentOptions(t.TempDir())
			tc.edit(&opts)
			agent, err := NewAgent(opts)
			if err == nil {
				agent.Close()
				t.Fatal("NewAgent took it")
			}
			wantError(t, err, syscall.EINVAL, tc.words...)
		})
	}
}

// The agent applies to the host, so TestAgentRunReturnsWhenCancelled runs
// in a network namespace of its own: the test binary runs itself again
// under unshare, with a veth pair for the node's private IP.
const agentNetnsEnv = "KILO_GO_TEST_IN_NETNS"

func TestAgentRunReturnsWhenCancelled(t *testing.T) {
	iface := fmt.Sprintf("kgo%05d", os.Getpid()%100000)
	if os.Getenv(agentNetnsEnv) == "" {
		runInNetns(t, iface)
		return
	}
	dir := t.TempDir()
	opts := agentOptions(dir)
	opts.Apply = &ApplyOptions{Interface: iface, WireGuardBackend: "userspace", UserspaceProgram: "wireguard-go",
		Encapsulate: "never", CleanUpInterface: true}
	var logged []string
	opts.Log = func(level LogLevel, message string) { logged = append(logged, message) }
	defer os.Remove("/var/run/wireguard/" + iface + ".sock")
	agent, err := NewAgent(opts)
	if err != nil {
		t.Fatal(err)
	}
	defer agent.Close()
	if _, err := os.Stat(filepath.Join(dir, "store", "nodes", "a.json")); err != nil {
		t.Errorf("the agent did not publish its node: %v", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	returned := make(chan error)
	go func() { returned <- agent.Run(ctx) }()
	time.Sleep(300 * time.Millisecond)
	cancel()
	select {
	case err := <-returned:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Run returned %v, want context.Canceled", err)
		}
	case <-time.After(time.Second): // the agent's own timeout is its check-in period, 2s
		t.Fatal("Run did not return within 1s of the cancel")
	}
	if !agent.Healthy() {
		t.Errorf("agent unhealthy; it logged %q", logged)
	}
	if metrics, err := agent.Metrics(); err != nil || !strings.Contains(metrics, "kilo_") {
		t.Errorf("Metrics() = %.80q, %v", metrics, err)
	}

	// Close wakes a Run that waits, and cleans up: the node leaves the store.
	go func() { returned <- agent.Run(context.Background()) }()
	time.Sleep(100 * time.Millisecond)
	agent.Close()
	select {
	case err := <-returned:
		wantError(t, err, syscall.EBADF, "agent")
	case <-time.After(time.Second):
		t.Fatal("Run did not return within 1s of Close")
	}
	if _, err := os.Stat(filepath.Join(dir, "store", "nodes", "a.json")); !os.IsNotExist(err) {
		t.Errorf("the node is still in the store after Close: %v", err)
	}
	err = agent.Step()
	wantError(t, err, syscall.EBADF, "agent")
}

// runInNetns runs the calling test in a new network namespace, under the
// machine-wide lock that every namespace test takes.
func runInNetns(t *testing.T, iface string) {
	if os.Geteuid() != 0 {
		t.Skip("needs root for a network namespace: not tested")
	}
	for _, program := range []string{"unshare", "flock", "ip", "wireguard-go"} {
		if _, err := exec.LookPath(program); err != nil {
			t.Skipf("needs %s: not tested", program)
		}
	}
	setup := fmt.Sprintf(`set -e; ip link set lo up; ip link add %[1]sa type veth peer name %[1]sb
		ip addr add 192.168.79.1/24 dev %[1]sa; ip link set %[1]sa up; ip link set %[1]sb up
		ip route add default via 192.168.79.254
		exec "$0" -test.run '^%[2]s$' -test.v`, iface, t.Name())
	// Others' namespace tests hold the lock for minutes at a time: wait a little, then skip.
	const busy = 75
	cmd := exec.Command("flock", "-w", "30", "-E", fmt.Sprint(busy), "/tmp/kilo-netns.lock",
		"unshare", "-n", "sh", "-c", setup, os.Args[0])
	cmd.Env = append(os.Environ(), agentNetnsEnv+"=1")
	out, err := cmd.CombinedOutput()
	if cmd.ProcessState != nil && cmd.ProcessState.ExitCode() == busy {
		t.Skip("the namespace lock /tmp/kilo-netns.lock stayed busy for 30s: not tested")
	}
	if err != nil {
		t.Fatalf("in a network namespace: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "--- PASS: "+t.Name()) {
		t.Fatalf("the test did not pass in the network namespace:\n%s", out)
	}
}
