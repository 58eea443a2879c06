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
	"unsafe"
)

// StoreOptions are what a store needs besides its URI: an etcd store's TLS
// files and credentials (kg's --etcd-* flags). "" fields are not given.
type StoreOptions struct {
	EtcdCACert       string
	EtcdCert         string
	EtcdKey          string
	EtcdUser         string
	EtcdPasswordFile string
}

// Store is where the nodes and peers of a mesh live: "file:DIR" or
// "etcd://HOST:PORT[/CLUSTER]". Its calls are serialised: the C store is
// used by one thread at a time.
type Store struct {
	mu sync.Mutex
	c  *C.kilo_store
}

// StoreProblem is an object a load left out: a file that is corrupt or
// half-written, or a node that clashes with one kept before it.
type StoreProblem struct {
	Path    string
	Message string
}

// OpenStore opens the store named by uri; opening writes nothing.
func OpenStore(uri string) (*Store, error) {
	return OpenStoreWithOptions(uri, nil)
}

// OpenStoreWithOptions opens a store with options (nil: none).
func OpenStoreWithOptions(uri string, opts *StoreOptions) (*Store, error) {
	var allocs cAllocs
	defer allocs.free()
	var cerr C.struct_kilo_error
	var c *C.kilo_store
	curi := C.CString(uri)
	defer C.free(unsafe.Pointer(curi))
	if r := C.kilo_store_open_opts(curi, opts.c(&allocs), &c, &cerr); r < 0 {
		return nil, newError(r, &cerr, "store")
	}
	s := &Store{c: c}
	runtime.SetFinalizer(s, (*Store).Close)
	return s, nil
}

// c builds the C options in C memory; nil for nil.
func (o *StoreOptions) c(allocs *cAllocs) *C.struct_kilo_store_opts {
	if o == nil {
		return nil
	}
	c := (*C.struct_kilo_store_opts)(allocs.zeroed(C.sizeof_struct_kilo_store_opts))
	c.sz = C.sizeof_struct_kilo_store_opts
	c.etcd_cacert = allocs.str(o.EtcdCACert)
	c.etcd_cert = allocs.str(o.EtcdCert)
	c.etcd_key = allocs.str(o.EtcdKey)
	c.etcd_user = allocs.str(o.EtcdUser)
	c.etcd_password_file = allocs.str(o.EtcdPasswordFile)
	return c
}

// Close closes the store. Closing twice is harmless.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.c != nil {
		C.kilo_store_close(s.c)
		s.c = nil
	}
	runtime.SetFinalizer(s, nil)
	return nil
}

func (s *Store) use(f func(c *C.kilo_store, cerr *C.struct_kilo_error) C.int, what string) error {
	var cerr C.struct_kilo_error
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.c == nil {
		return closedError("store")
	}
	if r := f(s.c, &cerr); r < 0 {
		return newError(r, &cerr, what)
	}
	return nil
}

// Load reads every node and peer into a new mesh with the default settings.
// Objects that cannot be read are left out; LoadWithSettings reports them.
func (s *Store) Load() (*Mesh, error) {
	mesh, _, err := s.LoadWithSettings(nil)
	return mesh, err
}

// LoadWithSettings reads every node and peer into a new mesh with settings
// (a mesh document that holds only "settings"; nil: the defaults), and
// returns the objects it left out (the first 16).
func (s *Store) LoadWithSettings(settings []byte) (*Mesh, []StoreProblem, error) {
	var csettings *C.char
	if settings != nil {
		csettings = C.CString(string(settings))
		defer C.free(unsafe.Pointer(csettings))
	}
	report := (*C.struct_kilo_store_report)(C.calloc(1, C.sizeof_struct_kilo_store_report))
	if report == nil {
		panic("kilo: out of memory")
	}
	defer C.free(unsafe.Pointer(report))
	var c *C.kilo_mesh
	err := s.use(func(store *C.kilo_store, cerr *C.struct_kilo_error) C.int {
		return C.kilo_store_load(store, csettings, &c, report, cerr)
	}, "store")
	if err != nil {
		return nil, nil, err
	}
	var problems []StoreProblem
	for i := 0; i < int(report.n_problems) && i < len(report.problems); i++ {
		problems = append(problems, StoreProblem{
			Path:    C.GoString(&report.problems[i].path[0]),
			Message: C.GoString(&report.problems[i].message[0]),
		})
	}
	return newMesh(c), problems, nil
}

// PutNode writes a node, given as a mesh document node object, atomically.
func (s *Store) PutNode(node []byte) error {
	return s.withText(string(node), "node", func(c *C.kilo_store, json *C.char, cerr *C.struct_kilo_error) C.int {
		return C.kilo_store_put_node(c, json, cerr)
	})
}

// PutPeer writes a peer, given as a mesh document peer object, atomically.
func (s *Store) PutPeer(peer []byte) error {
	return s.withText(string(peer), "peer", func(c *C.kilo_store, json *C.char, cerr *C.struct_kilo_error) C.int {
		return C.kilo_store_put_peer(c, json, cerr)
	})
}

// DeleteNode removes the node named name; nil if it was not there.
func (s *Store) DeleteNode(name string) error {
	return s.withText(name, "node", func(c *C.kilo_store, cname *C.char, cerr *C.struct_kilo_error) C.int {
		return C.kilo_store_delete_node(c, cname, cerr)
	})
}

// DeletePeer removes the peer named name; nil if it was not there.
func (s *Store) DeletePeer(name string) error {
	return s.withText(name, "peer", func(c *C.kilo_store, cname *C.char, cerr *C.struct_kilo_error) C.int {
		return C.kilo_store_delete_peer(c, cname, cerr)
	})
}

// withText calls f on the store with text as a C string.
func (s *Store) withText(text, what string, f func(*C.kilo_store, *C.char, *C.struct_kilo_error) C.int) error {
	ctext := C.CString(text)
	defer C.free(unsafe.Pointer(ctext))
	return s.use(func(c *C.kilo_store, cerr *C.struct_kilo_error) C.int { return f(c, ctext, cerr) }, what)
}
