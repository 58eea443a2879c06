// SPDX-License-Identifier: Apache-2.0

// Command compare-go is the Go side of the four-language comparison
// (tests/bindings/compare.sh): what libkilo computes for a mesh document,
// printed through the Go binding in the format of tests/bindings/README.md.
package main

import (
	"errors"
	"fmt"
	"os"

	kilo "github.com/libkilo/libkilo/bindings/go"
)

// The private key whose public key every binding prints: 32 bytes of 0x01.
const fixedPrivateKey = "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE="

func printNode(mesh *kilo.Mesh, name string) error {
	topology, err := mesh.Solve(name, nil)
	if err != nil {
		return err
	}
	defer topology.Close()
	if !topology.IsLeader() {
		fmt.Printf("# node %s (not a leader)\n", name)
		return nil
	}
	config, err := topology.Config()
	if err != nil {
		return err
	}
	fmt.Printf("# node %s (leader)\n%s", name, config)
	return nil
}

func printGraph(mesh *kilo.Mesh) error {
	topology, err := mesh.Solve("", nil)
	if err != nil {
		return err
	}
	defer topology.Close()
	dot, err := topology.Graph()
	if err != nil {
		return err
	}
	fmt.Printf("# graph\n%s", dot)
	return nil
}

func printKeyAndError() error {
	key, err := kilo.ParseKey(fixedPrivateKey)
	if err != nil {
		return err
	}
	defer key.Close()
	public, err := key.Public()
	if err != nil {
		return err
	}
	fmt.Printf("# public key\n%s\n", public)
	_, err = kilo.ParseCIDR("10.0.0.0/33")
	var kerr *kilo.Error
	if !errors.As(err, &kerr) {
		return fmt.Errorf("a bad CIDR was taken: %v", err)
	}
	fmt.Printf("# error\n%s\n", kerr.Message)
	return nil
}

func run(path string) error {
	mesh, err := kilo.LoadMesh(path)
	if err != nil {
		return err
	}
	defer mesh.Close()
	nodes, err := mesh.Nodes()
	if err != nil {
		return err
	}
	for _, name := range nodes {
		if err := printNode(mesh, name); err != nil {
			return err
		}
	}
	if err := printGraph(mesh); err != nil {
		return err
	}
	document, err := mesh.JSON()
	if err != nil {
		return err
	}
	fmt.Printf("# mesh\n%s\n", document)
	return printKeyAndError()
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: compare MESH.json")
		os.Exit(2)
	}
	if err := run(os.Args[1]); err != nil {
		fmt.Fprintf(os.Stderr, "compare: %v\n", err)
		os.Exit(1)
	}
}
