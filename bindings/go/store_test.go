// SPDX-License-Identifier: Apache-2.0

package kilo

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"syscall"
	"testing"
)

const storedNode = `{"name": "a", "endpoint": "192.0.2.1:51820", "podCIDR": "10.42.0.0/24", "publicKey": "CG/5qagmjODNSb4T9UjR1W4vxjufVepfTZ3KM5LmSXQ="}`

func openFileStore(t *testing.T) (*Store, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "store")
	store, err := OpenStore("file:" + dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	return store, dir
}

func TestStoreLoadsWhatWasPut(t *testing.T) {
	store, _ := openFileStore(t)
	if err := store.PutNode([]byte(storedNode)); err != nil {
		t.Fatal(err)
	}
	if err := store.PutPeer([]byte(`{"name": "laptop", "publicKey": "qPaj68xHr+H7Rte0oF/LLFZYQjeUmZOWuKH5KIbEiUE=", "allowedIPs": ["10.5.0.1/32"]}`)); err != nil {
		t.Fatal(err)
	}
	mesh, err := store.Load()
	if err != nil {
		t.Fatal(err)
	}
	defer mesh.Close()
	nodes, _ := mesh.Nodes()
	peers, _ := mesh.Peers()
	if !reflect.DeepEqual(nodes, []string{"a"}) || !reflect.DeepEqual(peers, []string{"laptop"}) {
		t.Errorf("loaded nodes %q and peers %q", nodes, peers)
	}
	if err := store.DeletePeer("laptop"); err != nil {
		t.Fatal(err)
	}
	again, err := store.Load()
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	if peers, _ := again.Peers(); len(peers) != 0 {
		t.Errorf("peers %q after the delete", peers)
	}
}

func TestStoreReportsACorruptFileAndKeepsTheRest(t *testing.T) {
	store, dir := openFileStore(t)
	if err := store.PutNode([]byte(storedNode)); err != nil {
		t.Fatal(err)
	}
	corrupt := filepath.Join(dir, "nodes", "b.json")
	if err := os.WriteFile(corrupt, []byte(`{"name": `), 0o600); err != nil {
		t.Fatal(err)
	}
	mesh, problems, err := store.LoadWithSettings([]byte(`{"version": 1, "settings": {"granularity": "full"}}`))
	if err != nil {
		t.Fatal(err)
	}
	defer mesh.Close()
	if nodes, _ := mesh.Nodes(); !reflect.DeepEqual(nodes, []string{"a"}) {
		t.Errorf("nodes %q", nodes)
	}
	if g, _ := mesh.Granularity(); g != GranularityFull {
		t.Errorf("granularity %q, not the settings'", g)
	}
	if len(problems) != 1 || !strings.HasSuffix(problems[0].Path, "b.json") || problems[0].Message == "" {
		t.Errorf("problems %+v", problems)
	}
}

func TestStorePutOfABadNodeNamesTheField(t *testing.T) {
	store, _ := openFileStore(t)
	err := store.PutNode([]byte(`{"name": "a", "podCIDR": "10.42.0.0/99"}`))
	wantError(t, err, syscall.EINVAL, "podCIDR", "10.42.0.0/99")
}

func TestOpenStoreOfUnknownSchemeNamesIt(t *testing.T) {
	_, err := OpenStore("ftp://example.com/mesh")
	wantError(t, err, syscall.EINVAL, "ftp://example.com/mesh")
}

func TestStoreUseAfterCloseIsEBADF(t *testing.T) {
	store, _ := openFileStore(t)
	store.Close()
	store.Close()
	_, err := store.Load()
	wantError(t, err, syscall.EBADF, "store")
	err = store.PutNode([]byte(storedNode))
	wantError(t, err, syscall.EBADF, "store")
}

// A store is used by one thread at a time in C; the wrapper's mutex lets
// goroutines share it (run with -race).
func TestGoroutinesShareAStore(t *testing.T) {
	store, _ := openFileStore(t)
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 10; i++ {
				name := fmt.Sprintf("n%d-%d", g, i)
				node := fmt.Sprintf(`{"name": %q, "podCIDR": "10.%d.%d.0/24"}`, name, 100+g, i)
				if err := store.PutNode([]byte(node)); err != nil {
					t.Error(err)
					return
				}
				mesh, err := store.Load()
				if err != nil {
					t.Error(err)
					return
				}
				mesh.Close()
			}
		}(g)
	}
	wg.Wait()
	mesh, err := store.Load()
	if err != nil {
		t.Fatal(err)
	}
	defer mesh.Close()
	if nodes, _ := mesh.Nodes(); len(nodes) != 40 {
		t.Errorf("%d nodes, want 40", len(nodes))
	}
}
