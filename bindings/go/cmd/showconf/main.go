// SPDX-License-Identifier: Apache-2.0

// Command showconf prints what `kgctl showconf` and `kgctl graph` print,
// for a mesh read from a store or a mesh document: a node's or a peer's
// WireGuard configuration, or the graph of the mesh seen from outside.
//
//	showconf -store file:/var/lib/kilo node NAME
//	showconf -mesh mesh.json peer NAME
//	showconf -mesh mesh.json graph
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	kilo "github.com/libkilo/libkilo/bindings/go"
)

const usage = "usage: showconf (-store URI | -mesh FILE) (node NAME | peer NAME | graph)"

func loadMesh(store, document string) (*kilo.Mesh, error) {
	if document != "" {
		return kilo.LoadMesh(document)
	}
	s, err := kilo.OpenStore(store)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	return s.Load()
}

func run(args []string, stdout io.Writer) error {
	flags := flag.NewFlagSet("showconf", flag.ContinueOnError)
	store := flags.String("store", "", "the store's URI, e.g. file:DIR")
	document := flags.String("mesh", "", "a mesh document")
	if err := flags.Parse(args); err != nil {
		return err
	}
	what := flags.Args()
	if (*store == "") == (*document == "") || len(what) == 0 || (what[0] == "graph") != (len(what) == 1) || len(what) > 2 {
		return errors.New(usage)
	}
	mesh, err := loadMesh(*store, *document)
	if err != nil {
		return err
	}
	defer mesh.Close()
	node := ""
	if what[0] == "node" {
		node = what[1]
	}
	topology, err := mesh.Solve(node, nil)
	if err != nil {
		return err
	}
	defer topology.Close()
	var text string
	switch what[0] {
	case "node":
		text, err = topology.Config()
	case "peer":
		text, err = topology.PeerConfig(what[1])
	case "graph":
		text, err = topology.Graph()
	default:
		return errors.New(usage)
	}
	if err == nil {
		_, err = io.WriteString(stdout, text)
	}
	return err
}

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintf(os.Stderr, "showconf: %v\n", err)
		os.Exit(1)
	}
}
