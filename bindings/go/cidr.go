// SPDX-License-Identifier: Apache-2.0

package kilo

/*
#include <stdlib.h>
#include <kilo/kilo.h>
*/
import "C"

import (
	"net/netip"
	"unsafe"
)

// ParseCIDR reads "ip/prefix" as libkilo does, keeping host bits; it
// refuses what Kilo would print back differently (an IPv4-mapped IPv6
// address), with the library's message.
func ParseCIDR(text string) (netip.Prefix, error) {
	var cerr C.struct_kilo_error
	var out C.struct_kilo_cidr
	var formatted [C.KILO_CIDR_STRLEN]C.char
	ctext := C.CString(text)
	defer C.free(unsafe.Pointer(ctext))
	if r := C.kilo_cidr_parse(ctext, &out, &cerr); r < 0 {
		return netip.Prefix{}, newError(r, &cerr, "cidr")
	}
	C.kilo_cidr_format(&out, &formatted[0])
	return netip.ParsePrefix(C.GoString(&formatted[0]))
}
