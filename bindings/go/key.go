// SPDX-License-Identifier: Apache-2.0

package kilo

/*
#include <stdlib.h>
#include <string.h>
#include <kilo/kilo.h>
*/
import "C"

import (
	"runtime"
	"sync"
	"unsafe"
)

// Key is a WireGuard private key. Its bytes live in C memory, out of reach
// of the Go garbage collector's copies, and are wiped by Close. It prints
// as "(hidden)"; Base64 gives its text on purpose.
type Key struct {
	mu sync.RWMutex // write-locked only to close
	c  *C.struct_kilo_key
}

// PublicKey is a WireGuard public key.
type PublicKey [C.KILO_KEY_LEN]byte

func newKey(fill func(*C.struct_kilo_key, *C.struct_kilo_error) C.int) (*Key, error) {
	var cerr C.struct_kilo_error
	c := (*C.struct_kilo_key)(C.calloc(1, C.sizeof_struct_kilo_key))
	if c == nil {
		panic("kilo: out of memory")
	}
	if r := fill(c, &cerr); r < 0 {
		C.kilo_key_wipe(c)
		C.free(unsafe.Pointer(c))
		return nil, newError(r, &cerr, "key")
	}
	k := &Key{c: c}
	runtime.SetFinalizer(k, (*Key).Close)
	return k, nil
}

// GenerateKey returns a new private key, like `wg genkey`.
func GenerateKey() (*Key, error) {
	return newKey(func(c *C.struct_kilo_key, cerr *C.struct_kilo_error) C.int {
		return C.kilo_key_generate(c, cerr)
	})
}

// ParseKey reads a private key in base64, as `wg` writes it.
func ParseKey(text string) (*Key, error) {
	ctext := C.CString(text)
	defer C.free(unsafe.Pointer(ctext))
	defer C.explicit_bzero(unsafe.Pointer(ctext), C.size_t(len(text)))
	return newKey(func(c *C.struct_kilo_key, cerr *C.struct_kilo_error) C.int {
		return C.kilo_key_parse(ctext, c, cerr)
	})
}

// ReadKeyFile reads a private key file, which only its owner may read.
func ReadKeyFile(path string) (*Key, error) {
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	return newKey(func(c *C.struct_kilo_key, cerr *C.struct_kilo_error) C.int {
		return C.kilo_key_read_file(cpath, c, cerr)
	})
}

// Close wipes the key. Closing twice is harmless.
func (k *Key) Close() error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.c != nil {
		C.kilo_key_wipe(k.c)
		C.free(unsafe.Pointer(k.c))
		k.c = nil
	}
	runtime.SetFinalizer(k, nil)
	return nil
}

func (k *Key) read(f func(*C.struct_kilo_key) error) error {
	k.mu.RLock()
	defer k.mu.RUnlock()
	if k.c == nil {
		return closedError("key")
	}
	return f(k.c)
}

// Public returns the key's public key, like `wg pubkey`.
func (k *Key) Public() (PublicKey, error) {
	var public PublicKey
	err := k.read(func(c *C.struct_kilo_key) error {
		var cerr C.struct_kilo_error
		var out C.struct_kilo_key
		if r := C.kilo_key_public(c, &out, &cerr); r < 0 {
			return newError(r, &cerr, "public key")
		}
		copy(public[:], C.GoBytes(unsafe.Pointer(&out.bytes[0]), C.KILO_KEY_LEN))
		return nil
	})
	return public, err
}

// Base64 returns the private key as `wg genkey` prints it.
func (k *Key) Base64() (string, error) {
	var text string
	err := k.read(func(c *C.struct_kilo_key) error {
		var out [C.KILO_KEY_B64_LEN + 1]C.char
		C.kilo_key_format(c, &out[0])
		text = C.GoString(&out[0])
		C.explicit_bzero(unsafe.Pointer(&out[0]), C.size_t(len(out)))
		return nil
	})
	return text, err
}

// WriteFile writes the key to a new file at path with mode 0600, atomically.
func (k *Key) WriteFile(path string) error {
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	return k.read(func(c *C.struct_kilo_key) error {
		var cerr C.struct_kilo_error
		if r := C.kilo_key_write_file(cpath, c, &cerr); r < 0 {
			return newError(r, &cerr, "key file")
		}
		return nil
	})
}

// String hides the key, so that printing one by mistake leaks nothing.
func (k *Key) String() string { return "(hidden)" }

// ParsePublicKey reads a public key in base64.
func ParsePublicKey(text string) (PublicKey, error) {
	var public PublicKey
	var cerr C.struct_kilo_error
	var out C.struct_kilo_key
	ctext := C.CString(text)
	defer C.free(unsafe.Pointer(ctext))
	if r := C.kilo_key_parse(ctext, &out, &cerr); r < 0 {
		return public, newError(r, &cerr, "public key")
	}
	copy(public[:], C.GoBytes(unsafe.Pointer(&out.bytes[0]), C.KILO_KEY_LEN))
	return public, nil
}

// String returns the key in base64.
func (p PublicKey) String() string {
	var key C.struct_kilo_key
	var out [C.KILO_KEY_B64_LEN + 1]C.char
	for i, b := range p {
		key.bytes[i] = C.uint8_t(b)
	}
	C.kilo_key_format(&key, &out[0])
	return C.GoString(&out[0])
}
