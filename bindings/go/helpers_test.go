// SPDX-License-Identifier: Apache-2.0

package kilo

import (
	"errors"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// exampleMesh is the path of a mesh document in the repository's examples/meshes.
func exampleMesh(name string) string {
	return filepath.Join("..", "..", "examples", "meshes", name+".json")
}

func loadExample(t *testing.T, name string) *Mesh {
	t.Helper()
	mesh, err := LoadMesh(exampleMesh(name))
	if err != nil {
		t.Fatalf("LoadMesh(%s): %v", name, err)
	}
	t.Cleanup(func() { mesh.Close() })
	return mesh
}

// wantError checks that err is an *Error with code, that errors.Is finds
// the errno, and that the message holds every one of words.
func wantError(t *testing.T, err error, code syscall.Errno, words ...string) {
	t.Helper()
	var kerr *Error
	if !errors.As(err, &kerr) {
		t.Fatalf("error %v (%T), want a *kilo.Error", err, err)
	}
	if kerr.Code != code || !errors.Is(err, code) {
		t.Errorf("code %d (%v), want %d (%v)", int(kerr.Code), kerr.Code, int(code), code)
	}
	for _, word := range words {
		if !strings.Contains(kerr.Message, word) {
			t.Errorf("message %q does not name %q", kerr.Message, word)
		}
	}
}
