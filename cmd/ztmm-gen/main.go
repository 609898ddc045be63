// Command ztmm-gen is the only writer of ztmm's generated files: the Grafana dashboards, the Prometheus
// rule files and METRICS.md. Each generated file is committed; tests fail when regenerating would
// change one.
//
//	go run ./cmd/ztmm-gen            # rewrite every generated file under the current directory
//	go run ./cmd/ztmm-gen -check     # exit 1 and name the files that are out of date
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/ztmm/ztmm/internal/generate"
)

func main() { os.Exit(run(os.Args[1:])) }

func run(args []string) int {
	fs := flag.NewFlagSet("ztmm-gen", flag.ContinueOnError)
	root := fs.String("root", ".", "repository root to write into")
	check := fs.Bool("check", false, "only report files that regenerating would change")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	files, err := generate.All()
	if err != nil {
		fmt.Fprintln(os.Stderr, "ztmm-gen:", err)
		return 1
	}
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	stale := 0
	for _, n := range names {
		p := filepath.Join(*root, n)
		old, _ := os.ReadFile(p)
		if bytes.Equal(old, files[n]) {
			continue
		}
		if *check {
			fmt.Fprintln(os.Stderr, "out of date:", n)
			stale++
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			fmt.Fprintln(os.Stderr, "ztmm-gen:", err)
			return 1
		}
		if err := os.WriteFile(p, files[n], 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "ztmm-gen:", err)
			return 1
		}
		fmt.Println("wrote", n)
	}
	if stale > 0 {
		fmt.Fprintf(os.Stderr, "%d generated files are out of date: run make generate\n", stale)
		return 1
	}
	return 0
}
