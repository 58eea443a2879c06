module github.com/libkilo/libkilo/bindings/go

go 1.19
