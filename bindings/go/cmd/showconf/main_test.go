// SPDX-License-Identifier: Apache-2.0

package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

var fullMesh = filepath.Join("..", "..", "..", "..", "examples", "meshes", "full-mesh.json")

func showconf(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out strings.Builder
	err := run(args, &out)
	return out.String(), err
}

func TestShowconfOfAPeerFromAStore(t *testing.T) {
	dir := t.TempDir()
	peer := `{"name": "laptop", "publicKey": "qPaj68xHr+H7Rte0oF/LLFZYQjeUmZOWuKH5KIbEiUE=", "allowedIPs": ["10.5.0.1/32"]}`
	// A store is live: a node is in its mesh while its heartbeat is fresh.
	node := fmt.Sprintf(`{"name": "a", "endpoint": "192.0.2.1:51820", "podCIDR": "10.42.0.0/24", "publicKey": "CG/5qagmjODNSb4T9UjR1W4vxjufVepfTZ3KM5LmSXQ=", "lastSeen": %d}`, time.Now().Unix())
	for path, object := range map[string]string{"peers/laptop.json": peer, "nodes/a.json": node} {
		os.MkdirAll(filepath.Dir(filepath.Join(dir, path)), 0o700)
		if err := os.WriteFile(filepath.Join(dir, path), []byte(object), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	text, err := showconf(t, "-store", "file:"+dir, "peer", "laptop")
	if err != nil || !strings.Contains(text, "Endpoint = 192.0.2.1:51820\n") {
		t.Errorf("showconf peer laptop = %v:\n%s", err, text)
	}
}

func TestShowconfOfANodeAndTheGraph(t *testing.T) {
	if text, err := showconf(t, "-mesh", fullMesh, "node", "web-2"); err != nil || !strings.HasPrefix(text, "[Interface]\n") {
		t.Errorf("showconf node web-2 = %v:\n%s", err, text)
	}
	if text, err := showconf(t, "-mesh", fullMesh, "graph"); err != nil || !strings.HasPrefix(text, "digraph") {
		t.Errorf("showconf graph = %v:\n%.60s", err, text)
	}
}

func TestShowconfOfAnUnknownNodeNamesIt(t *testing.T) {
	_, err := showconf(t, "-mesh", fullMesh, "node", "nobody")
	if !errors.Is(err, syscall.ENOENT) || !strings.Contains(err.Error(), "nobody") {
		t.Errorf("error %v", err)
	}
	if _, err := showconf(t, "-mesh", fullMesh, "graph", "extra"); err == nil || !strings.HasPrefix(err.Error(), "usage:") {
		t.Errorf("error %v for a bad command line", err)
	}
}
