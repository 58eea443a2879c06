// SPDX-License-Identifier: Apache-2.0

package kilo

import (
	"reflect"
	"strings"
	"sync"
	"syscall"
	"testing"
)

const badPodCIDRMesh = `{"version": 1, "nodes": [{"name": "a", "podCIDR": "10.2.1.0/33"}]}`

func TestLoadMeshGivesNodesAndPeersInOrder(t *testing.T) {
	mesh := loadExample(t, "full-mesh")
	nodes, err := mesh.Nodes()
	if err != nil || !reflect.DeepEqual(nodes, []string{"db-1", "web-1", "web-2"}) {
		t.Errorf("Nodes() = %q, %v", nodes, err)
	}
	peers, err := mesh.Peers()
	if err != nil || !reflect.DeepEqual(peers, []string{"ci-runner"}) {
		t.Errorf("Peers() = %q, %v", peers, err)
	}
	if g, err := mesh.Granularity(); g != GranularityFull || err != nil {
		t.Errorf("Granularity() = %q, %v", g, err)
	}
}

func TestLoadMeshOfMissingFileIsENOENTNamingIt(t *testing.T) {
	_, err := LoadMesh("/nonexistent/mesh.json")
	wantError(t, err, syscall.ENOENT, "/nonexistent/mesh.json")
}

func TestParseMeshNamesTheBadField(t *testing.T) {
	_, err := ParseMesh([]byte(badPodCIDRMesh))
	wantError(t, err, syscall.EINVAL, "podCIDR", "10.2.1.0/33")
}

func TestParseMeshRefusesEmptyAndTruncatedText(t *testing.T) {
	for _, text := range []string{"", "{", "\x00", `{"version": 1, "nodes": [`} {
		if _, err := ParseMesh([]byte(text)); err == nil {
			t.Errorf("ParseMesh(%q) took it", text)
		} else {
			wantError(t, err, syscall.EINVAL)
		}
	}
}

func TestMeshJSONReadsBackTheSame(t *testing.T) {
	document, err := loadExample(t, "three-clouds").JSON()
	if err != nil {
		t.Fatal(err)
	}
	again, err := ParseMesh([]byte(document))
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	if second, err := again.JSON(); second != document || err != nil {
		t.Errorf("JSON of the JSON differs (%v):\n%s\n---\n%s", err, document, second)
	}
}

func TestSolveGivesALeaderItsConfigWithItsKey(t *testing.T) {
	key, err := ParseKey(fixedKey)
	if err != nil {
		t.Fatal(err)
	}
	defer key.Close()
	topology, err := loadExample(t, "full-mesh").Solve("db-1", &SolveOptions{PrivateKey: key, Port: 4000})
	if err != nil {
		t.Fatal(err)
	}
	defer topology.Close()
	if !topology.IsLeader() {
		t.Error("db-1 is no leader in a full mesh")
	}
	config, err := topology.Config()
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{"PrivateKey = " + fixedKey, "ListenPort = 4000", "PublicKey = CG/5qagmjODNSb4T9UjR1W4vxjufVepfTZ3KM5LmSXQ="} {
		if !strings.Contains(config, line+"\n") {
			t.Errorf("config lacks %q:\n%s", line, config)
		}
	}
}

func TestSolveOptionsOverrideKeepaliveAndGranularity(t *testing.T) {
	mesh := loadExample(t, "full-mesh")
	topology, err := mesh.Solve("db-1", &SolveOptions{OverrideKeepalive: true, PersistentKeepalive: 25e9, Granularity: GranularityLocation})
	if err != nil {
		t.Fatal(err)
	}
	defer topology.Close()
	config, err := topology.Config()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(config, "PersistentKeepalive = 25\n") {
		t.Errorf("keepalive not overridden:\n%s", config)
	}
	// By location, web-1 shares db-1's segment: two peers, not three.
	if n := strings.Count(config, "[Peer]"); n != 2 {
		t.Errorf("%d peers by location, want 2:\n%s", n, config)
	}
}

func TestSolveForUnknownNodeIsENOENTNamingIt(t *testing.T) {
	_, err := loadExample(t, "full-mesh").Solve("nobody", nil)
	wantError(t, err, syscall.ENOENT, "nobody")
}

func TestSolveWithUnknownGranularityNamesIt(t *testing.T) {
	_, err := loadExample(t, "full-mesh").Solve("db-1", &SolveOptions{Granularity: "sideways"})
	wantError(t, err, syscall.EINVAL, "sideways")
}

func TestPeerConfigListsEverySegment(t *testing.T) {
	topology, err := loadExample(t, "full-mesh").Solve("", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer topology.Close()
	if topology.IsLeader() {
		t.Error("the view from outside leads")
	}
	config, err := topology.PeerConfig("ci-runner")
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(config, "[Peer]"); n != 3 {
		t.Errorf("%d peers for ci-runner, want the 3 segments:\n%s", n, config)
	}
	_, err = topology.PeerConfig("nobody")
	wantError(t, err, syscall.ENOENT, "nobody")
}

func TestGraphIsDOT(t *testing.T) {
	topology, err := loadExample(t, "three-clouds").Solve("", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer topology.Close()
	dot, err := topology.Graph()
	if err != nil || !strings.HasPrefix(dot, "digraph") {
		t.Errorf("Graph() = %.40q..., %v", dot, err)
	}
}

func TestTopologyKeepsItsClosedMeshAlive(t *testing.T) {
	mesh, err := LoadMesh(exampleMesh("full-mesh"))
	if err != nil {
		t.Fatal(err)
	}
	topology, err := mesh.Solve("web-1", nil)
	if err != nil {
		t.Fatal(err)
	}
	before, _ := topology.Config()
	mesh.Close()
	after, err := topology.Config()
	if err != nil || after != before {
		t.Errorf("config after the mesh closed = %v:\n%s", err, after)
	}
	topology.Close()
}

func TestUseAfterCloseIsEBADF(t *testing.T) {
	mesh, err := LoadMesh(exampleMesh("full-mesh"))
	if err != nil {
		t.Fatal(err)
	}
	topology, err := mesh.Solve("db-1", nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		if err := topology.Close(); err != nil {
			t.Fatal(err)
		}
		if err := mesh.Close(); err != nil {
			t.Fatal(err)
		}
	}
	_, err = mesh.Nodes()
	wantError(t, err, syscall.EBADF, "mesh")
	_, err = mesh.JSON()
	wantError(t, err, syscall.EBADF, "mesh")
	_, err = mesh.Solve("db-1", nil)
	wantError(t, err, syscall.EBADF, "mesh")
	_, err = topology.Config()
	wantError(t, err, syscall.EBADF, "topology")
	_, err = topology.PeerConfig("ci-runner")
	wantError(t, err, syscall.EBADF, "topology")
	_, err = topology.Graph()
	wantError(t, err, syscall.EBADF, "topology")
}

// A mesh is read-only: goroutines solve and render it at once (run with -race).
func TestConcurrentSolvesOfOneMeshAgree(t *testing.T) {
	mesh := loadExample(t, "three-clouds")
	nodes, err := mesh.Nodes()
	if err != nil {
		t.Fatal(err)
	}
	render := func(node string) (string, error) {
		topology, err := mesh.Solve(node, nil)
		if err != nil {
			return "", err
		}
		defer topology.Close()
		if node == "" {
			return topology.Graph()
		}
		return topology.Config()
	}
	want := map[string]string{}
	for _, node := range append(nodes, "") {
		if want[node], err = render(node); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	for g := 0; g < 6; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 30; i++ {
				node := append(nodes, "")[(g+i)%(len(nodes)+1)]
				if got, err := render(node); err != nil || got != want[node] {
					t.Errorf("goroutine %d: %q differs (%v)", g, node, err)
					return
				}
			}
		}(g)
	}
	wg.Wait()
}
