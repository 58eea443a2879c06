// SPDX-License-Identifier: Apache-2.0

// Package kilo wraps libkilo, a WireGuard mesh compatible with Kilo, through
// its C ABI (cgo over pkg-config).
//
// Every handle (Mesh, Topology, Key, Store, Agent) has a Close method that
// releases it at once; a finalizer releases a forgotten one only as a safety
// net. A handle used after Close returns an *Error with Code EBADF. Meshes
// and topologies are read-only and may be shared between goroutines; a Store
// and an Agent serialise their calls with a mutex, as the C API asks.
package kilo

/*
#cgo pkg-config: libkilo
#include <stdlib.h>
#include <string.h>
#include <kilo/kilo.h>
*/
import "C"

import (
	"fmt"
	"syscall"
	"unsafe"
)

// Error is a failure reported by libkilo: the errno and the library's
// message, which names the field or argument and the bad value.
type Error struct {
	Code    syscall.Errno
	Message string
}

func (e *Error) Error() string { return e.Message }

// Unwrap returns the errno, so that errors.Is(err, syscall.ENOENT) works.
func (e *Error) Unwrap() error { return e.Code }

// Version is the version of the libkilo the program runs with.
func Version() string { return C.GoString(C.kilo_version()) }

// newError turns a negative errno and the library's message into an *Error;
// the library fills the message, so what names the call only when it did not.
func newError(r C.int, cerr *C.struct_kilo_error, what string) error {
	code := syscall.Errno(-r)
	message := C.GoString(&cerr.message[0])
	if message == "" {
		message = fmt.Sprintf("%s: %s", what, code.Error())
	}
	return &Error{Code: code, Message: message}
}

// closedError is what a handle used after Close returns.
func closedError(what string) error {
	return &Error{Code: syscall.EBADF, Message: what + ": used after Close"}
}

// takeString copies a string the library allocated and frees it.
func takeString(s *C.char) string {
	defer C.kilo_free(unsafe.Pointer(s))
	return C.GoString(s)
}

// takeSecret is takeString for a text that may hold a private key: the C
// copy is wiped before it is freed (the Go copy is the caller's to guard).
func takeSecret(s *C.char) string {
	defer C.kilo_free(unsafe.Pointer(s))
	defer C.explicit_bzero(unsafe.Pointer(s), C.strlen(s))
	return C.GoString(s)
}

// cAllocs holds the C memory an option struct points into for one call:
// cgo forbids Go memory that holds Go pointers to be passed to C.
type cAllocs []unsafe.Pointer

func (a *cAllocs) str(s string) *C.char {
	if s == "" {
		return nil
	}
	p := C.CString(s)
	*a = append(*a, unsafe.Pointer(p))
	return p
}

func (a *cAllocs) zeroed(size C.size_t) unsafe.Pointer {
	p := C.calloc(1, size)
	if p == nil {
		panic("kilo: out of memory")
	}
	*a = append(*a, p)
	return p
}

// strs makes a C array of C strings; nil for none.
func (a *cAllocs) strs(list []string) (**C.char, C.size_t) {
	if len(list) == 0 {
		return nil, 0
	}
	p := (**C.char)(a.zeroed(C.size_t(len(list)) * C.size_t(unsafe.Sizeof((*C.char)(nil)))))
	array := unsafe.Slice(p, len(list))
	for i, s := range list {
		array[i] = C.CString(s)
		*a = append(*a, unsafe.Pointer(array[i]))
	}
	return p, C.size_t(len(list))
}

func (a *cAllocs) free() {
	for _, p := range *a {
		C.free(p)
	}
	*a = nil
}
