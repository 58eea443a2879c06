// SPDX-License-Identifier: Apache-2.0

package kilo

/*
#include <stdlib.h>
#include <kilo/kilo.h>
*/
import "C"

import (
	"runtime"
	"sync"
	"sync/atomic"
	"unsafe"
)

// Mesh is a mesh document: nodes, peers and settings. It is read-only, so
// any number of goroutines may solve it at once. The C library needs a
// mesh to outlive every topology solved from it, so the memory stays until
// the last Topology is closed too; the Mesh itself is unusable after Close.
type Mesh struct {
	mu     sync.RWMutex // write-locked only to close
	c      *C.kilo_mesh
	closed bool
	refs   atomic.Int32 // the Mesh's own reference and one per open Topology
}

func newMesh(c *C.kilo_mesh) *Mesh {
	m := &Mesh{c: c}
	m.refs.Store(1)
	runtime.SetFinalizer(m, (*Mesh).Close)
	return m
}

// LoadMesh reads the mesh document at path; errors name the path and the field.
func LoadMesh(path string) (*Mesh, error) {
	var cerr C.struct_kilo_error
	var c *C.kilo_mesh
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	if r := C.kilo_mesh_load_file(cpath, &c, &cerr); r < 0 {
		return nil, newError(r, &cerr, "mesh")
	}
	return newMesh(c), nil
}

// ParseMesh reads a mesh document from JSON text.
func ParseMesh(document []byte) (*Mesh, error) {
	var cerr C.struct_kilo_error
	var c *C.kilo_mesh
	var text *C.char
	if len(document) > 0 {
		text = (*C.char)(unsafe.Pointer(&document[0]))
	} else {
		text = C.CString("")
		defer C.free(unsafe.Pointer(text))
	}
	if r := C.kilo_mesh_from_json(text, C.size_t(len(document)), &c, &cerr); r < 0 {
		return nil, newError(r, &cerr, "mesh")
	}
	return newMesh(c), nil
}

// Close releases the mesh; topologies solved from it stay usable. Closing
// twice is harmless.
func (m *Mesh) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.closed {
		m.closed = true
		m.unref()
	}
	runtime.SetFinalizer(m, nil)
	return nil
}

// unref drops a reference; the last one frees the C mesh.
func (m *Mesh) unref() {
	if m.refs.Add(-1) == 0 {
		C.kilo_mesh_free(m.c)
	}
}

// read runs f with the mesh read-locked, or fails once it is closed.
func (m *Mesh) read(f func(c *C.kilo_mesh) error) error {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.closed {
		return closedError("mesh")
	}
	return f(m.c)
}

// Nodes returns the node names in the mesh's order.
func (m *Mesh) Nodes() ([]string, error) {
	var names []string
	err := m.read(func(c *C.kilo_mesh) error {
		n := C.kilo_mesh_node_count(c)
		names = make([]string, 0, int(n))
		for i := C.size_t(0); i < n; i++ {
			names = append(names, C.GoString(C.kilo_mesh_node_name(c, i)))
		}
		return nil
	})
	return names, err
}

// Peers returns the peer names in the mesh's order.
func (m *Mesh) Peers() ([]string, error) {
	var names []string
	err := m.read(func(c *C.kilo_mesh) error {
		n := C.kilo_mesh_peer_count(c)
		names = make([]string, 0, int(n))
		for i := C.size_t(0); i < n; i++ {
			names = append(names, C.GoString(C.kilo_mesh_peer_name(c, i)))
		}
		return nil
	})
	return names, err
}

// Granularity returns the mesh's granularity setting.
func (m *Mesh) Granularity() (Granularity, error) {
	var g Granularity
	err := m.read(func(c *C.kilo_mesh) error {
		g = Granularity(C.GoString(C.kilo_granularity_name(C.kilo_mesh_granularity(c))))
		return nil
	})
	return g, err
}

// JSON returns the mesh as a pretty-printed mesh document.
func (m *Mesh) JSON() (string, error) {
	var text string
	err := m.read(func(c *C.kilo_mesh) error {
		var cerr C.struct_kilo_error
		var out *C.char
		if r := C.kilo_mesh_to_json(c, &out, &cerr); r < 0 {
			return newError(r, &cerr, "mesh")
		}
		text = takeString(out)
		return nil
	})
	return text, err
}
