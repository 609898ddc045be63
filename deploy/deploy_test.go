package deploy

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/ztmm/ztmm/internal/config"
	"github.com/ztmm/ztmm/internal/e2e"
)

// root is the repository root, relative to this package's directory.
const root = ".."

func repoPath(p string) string { return filepath.Join(root, filepath.FromSlash(p)) }

func mustRead(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// decodeAll decodes every non-empty document of a multi-document YAML stream.
func decodeAll(b []byte) ([]map[string]any, error) {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	var out []map[string]any
	for {
		var doc any
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		switch d := doc.(type) {
		case nil:
		case map[string]any:
			out = append(out, d)
		default:
			out = append(out, map[string]any{"": d})
		}
	}
}

// lookup walks a decoded YAML tree by keys (strings) and list indexes (ints).
func lookup(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				return nil
			}
			v = m[k]
		case int:
			l, ok := v.([]any)
			if !ok || k >= len(l) {
				return nil
			}
			v = l[k]
		}
	}
	return v
}

func str(v any, path ...any) string {
	s, _ := lookup(v, path...).(string)
	return s
}

func list(v any, path ...any) []any {
	l, _ := lookup(v, path...).([]any)
	return l
}

func TestDashboardConfigMaps(t *testing.T) {
	b, err := DashboardConfigMaps(map[string][]byte{
		"dashboards/ztmm-overview.json":   []byte("{\n  \"uid\": \"ztmm-overview\"\n}\n"),
		"dashboards/Service_Release.json": []byte("{}\n"),
		"dashboards/.lint":                []byte("not a dashboard"),
	})
	if err != nil {
		t.Fatal(err)
	}
	docs, err := decodeAll(b)
	if err != nil {
		t.Fatalf("generated YAML does not parse: %v\n%s", err, b)
	}
	tests := []struct {
		name, key, data string
	}{
		// Sorted by path: upper case first; the name is made a valid object name.
		{"ztmm-dashboard-service-release", "Service_Release.json", "{}\n"},
		{"ztmm-dashboard-ztmm-overview", "ztmm-overview.json", "{\n  \"uid\": \"ztmm-overview\"\n}\n"},
	}
	if len(docs) != len(tests) {
		t.Fatalf("got %d ConfigMaps, want %d (one per .json file):\n%s", len(docs), len(tests), b)
	}
	for i, tt := range tests {
		d := docs[i]
		if got := str(d, "kind"); got != "ConfigMap" {
			t.Errorf("doc %d: kind %q, want ConfigMap", i, got)
		}
		if got := str(d, "metadata", "name"); got != tt.name {
			t.Errorf("doc %d: name %q, want %q", i, got, tt.name)
		}
		if got := str(d, "metadata", "labels", "grafana_dashboard"); got != "1" {
			t.Errorf("%s: label grafana_dashboard = %q, want \"1\" (the Grafana sidecar's default)", tt.name, got)
		}
		if got := str(d, "data", tt.key); got != tt.data {
			t.Errorf("%s: data[%s] = %q, want the file byte for byte %q", tt.name, tt.key, got, tt.data)
		}
	}
}

// TestDashboardConfigMapsFitClientSideApply guards the reason there is one ConfigMap per dashboard:
// `kubectl apply` without --server-side stores the object in an annotation limited to 256 KiB.
func TestDashboardConfigMapsFitClientSideApply(t *testing.T) {
	docs, err := decodeAll(mustRead(t, repoPath(DashboardsConfigMapPath)))
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range docs {
		b, err := json.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		if len(b) > 256*1024 {
			t.Errorf("%s is %d bytes as JSON: over the 262144 bytes of kubectl's last-applied annotation", str(d, "metadata", "name"), len(b))
		}
	}
}

// TestEveryYAMLParses decodes every YAML file under deploy/, all documents of each.
func TestEveryYAMLParses(t *testing.T) {
	var files []string
	err := filepath.WalkDir(".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if ext := filepath.Ext(p); !d.IsDir() && (ext == ".yml" || ext == ".yaml") {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"prometheus/prometheus.yml", "compose/compose.yaml", "kubernetes/base/kustomization.yaml", "systemd/ztmm.yml"} {
		if !slices.Contains(files, filepath.FromSlash(want)) {
			t.Errorf("deploy/%s is missing", want)
		}
	}
	for _, f := range files {
		t.Run(f, func(t *testing.T) {
			docs, err := decodeAll(mustRead(t, f))
			if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			if len(docs) == 0 {
				t.Errorf("%s has no YAML document", f)
			}
		})
	}
}

// TestDocsNameExistingFiles keeps README.md in step with the bundle: every repository path it names
// in backquotes exists.
func TestDocsNameExistingFiles(t *testing.T) {
	doc := string(mustRead(t, repoPath("README.md")))
	re := regexp.MustCompile("`((?:deploy|alerts|dashboards)/[A-Za-z0-9_./*-]+)`")
	matches := re.FindAllStringSubmatch(doc, -1)
	if len(matches) < 10 {
		t.Fatalf("README.md names %d repository paths; the pattern no longer finds them", len(matches))
	}
	for _, m := range matches {
		p := strings.TrimSuffix(m[1], "/")
		if strings.Contains(p, "*") {
			if g, _ := filepath.Glob(repoPath(p)); len(g) == 0 {
				t.Errorf("README.md names %s, which matches no file", m[1])
			}
			continue
		}
		if _, err := os.Stat(repoPath(p)); err != nil {
			t.Errorf("README.md names %s: %v", m[1], err)
		}
	}
}

// binary finds a Debian-packaged tool or fails saying how to get it (like internal/e2e.Binary, which this
// package does not import to stay free of the exporter's dependencies).
func binary(t *testing.T, names ...string) string {
	t.Helper()
	for _, n := range names {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	t.Fatalf("%s not found: install the Debian packages prometheus and prometheus-alertmanager (bash .ci/run does)", strings.Join(names, " or "))
	return ""
}

// prometheusLayout lays out a directory the way deploy/prometheus/prometheus.yml expects (see its header),
// with symlinks to the repository's files, as `make stack` does.
func prometheusLayout(t *testing.T, targetsDir string) string {
	t.Helper()
	dir := t.TempDir()
	abs := func(p string) string {
		a, err := filepath.Abs(repoPath(p))
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	for _, l := range []struct{ from, to string }{
		{abs("deploy/prometheus/prometheus.yml"), "prometheus.yml"},
		{abs("alerts/ztmm.rules.yml"), "rules/ztmm.rules.yml"},
		{abs(targetsDir), "targets"},
	} {
		to := filepath.Join(dir, l.to)
		if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(l.from, to); err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Join(dir, "prometheus.yml")
}

func TestPrometheusConfigPassesPromtool(t *testing.T) {
	promtool := binary(t, "promtool")
	for _, targets := range []string{"deploy/prometheus/targets", "deploy/compose/targets"} {
		t.Run(targets, func(t *testing.T) {
			cfg := prometheusLayout(t, targets)
			out, err := exec.Command(promtool, "check", "config", cfg).CombinedOutput()
			if err != nil {
				t.Fatalf("promtool check config: %v\n%s", err, out)
			}
			// An empty rules/ glob also passes; the rules must really have been checked.
			if !strings.Contains(string(out), "1 rule files found") {
				t.Errorf("promtool did not find the rules through rule_files:\n%s", out)
			}
		})
	}
}

// TestPrometheusConfigKeepsJobName: every install calls the job ztmm, as the Kubernetes ServiceMonitor
// (jobLabel), the e2e harness and the alerts' unit tests do, so queries in the docs work everywhere.
func TestPrometheusConfigKeepsJobName(t *testing.T) {
	docs, err := decodeAll(mustRead(t, repoPath("deploy/prometheus/prometheus.yml")))
	if err != nil {
		t.Fatal(err)
	}
	var jobs []string
	for _, sc := range list(docs[0], "scrape_configs") {
		jobs = append(jobs, str(sc, "job_name"))
	}
	if !slices.Contains(jobs, "ztmm") {
		t.Errorf("scrape jobs %v, want one named ztmm", jobs)
	}
}

func TestAlertmanagerConfigPassesAmtool(t *testing.T) {
	amtool := binary(t, "amtool")
	out, err := exec.Command(amtool, "check-config", repoPath("deploy/alertmanager/alertmanager.yml")).CombinedOutput()
	if err != nil {
		t.Fatalf("amtool check-config: %v\n%s", err, out)
	}
}

// loadExampleConfig validates an example ztmm.yml with the exporter's own loader. Token files named under
// secretDir are replaced by dummy files in a temporary directory; it returns the token file base names.
func loadExampleConfig(t *testing.T, file, secretDir string) []string {
	t.Helper()
	b := mustRead(t, file)
	tmp := t.TempDir()
	re := regexp.MustCompile(`(token_file:\s*)` + regexp.QuoteMeta(secretDir) + `/([A-Za-z0-9._-]+)`)
	var names []string
	for _, m := range re.FindAllStringSubmatch(string(b), -1) {
		names = append(names, m[2])
		if err := os.WriteFile(filepath.Join(tmp, m[2]), []byte("dummy-token-for-validation\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	b = re.ReplaceAll(b, []byte("${1}"+filepath.ToSlash(tmp)+"/$2"))
	if _, err := config.Parse(b, file); err != nil {
		t.Fatalf("%s is not a valid configuration: %v", file, err)
	}
	sort.Strings(names)
	return slices.Compact(names)
}

func TestSystemdUnit(t *testing.T) {
	unit := string(mustRead(t, repoPath("deploy/systemd/ztmm-exporter.service")))
	directives := map[string][]string{}
	sc := bufio.NewScanner(strings.NewReader(unit))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, "[") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			t.Errorf("unit line %q is not key=value", line)
			continue
		}
		directives[k] = append(directives[k], v)
	}
	has := func(k, want string) bool { return slices.Contains(directives[k], want) }
	for _, d := range []struct{ key, value string }{
		{"DynamicUser", "yes"},
		{"NoNewPrivileges", "yes"},
		{"ProtectSystem", "strict"},
		{"ProtectHome", "yes"},
		{"PrivateTmp", "yes"},
		{"CapabilityBoundingSet", ""},
		{"ExecReload", "/bin/kill -HUP $MAINPID"},
		{"WantedBy", "multi-user.target"},
	} {
		if !has(d.key, d.value) {
			t.Errorf("unit: want %s=%s, have %q", d.key, d.value, directives[d.key])
		}
	}
	if start := strings.Join(directives["ExecStart"], ""); !strings.Contains(start, "--config.file=/etc/ztmm/ztmm.yml") {
		t.Errorf("ExecStart %q does not read /etc/ztmm/ztmm.yml, where the example config is installed", start)
	}

	// Every token the example config reads is a credential the unit loads, and vice versa.
	tokens := loadExampleConfig(t, repoPath("deploy/systemd/ztmm.yml"), "/run/credentials/ztmm-exporter.service")
	var creds []string
	for _, v := range directives["LoadCredential"] {
		id, _, _ := strings.Cut(v, ":")
		creds = append(creds, id)
	}
	sort.Strings(creds)
	if !slices.Equal(tokens, creds) {
		t.Errorf("config token files %v, unit LoadCredential ids %v: they must match", tokens, creds)
	}

	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Log("systemd-analyze not installed: unit checked statically only")
		return
	}
	// verify insists that ExecStart's binary exists; the unit's own path is checked above.
	dir := t.TempDir()
	p := filepath.Join(dir, "ztmm-exporter.service")
	if err := os.WriteFile(p, []byte(strings.ReplaceAll(unit, "/usr/local/bin/ztmm-exporter", "/bin/true")), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(analyze, "verify", p).CombinedOutput(); err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
}

// dockerfileInstr is one instruction of a Dockerfile, continuation lines joined.
type dockerfileInstr struct{ cmd, args string }

func parseDockerfile(b []byte) []dockerfileInstr {
	var out []dockerfileInstr
	var cur strings.Builder
	for _, line := range strings.Split(string(b), "\n") {
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "#") || (trimmed == "" && cur.Len() == 0) {
			continue
		}
		if strings.HasSuffix(trimmed, "\\") {
			cur.WriteString(strings.TrimSuffix(trimmed, "\\") + " ")
			continue
		}
		cur.WriteString(trimmed)
		cmd, args, _ := strings.Cut(cur.String(), " ")
		out = append(out, dockerfileInstr{strings.ToUpper(cmd), strings.TrimSpace(args)})
		cur.Reset()
	}
	return out
}

func TestDockerfile(t *testing.T) {
	instrs := parseDockerfile(mustRead(t, repoPath("deploy/docker/Dockerfile")))
	args := map[string]string{}
	var froms, stages []string
	var user, expose string
	for _, in := range instrs {
		switch in.cmd {
		case "ARG":
			if k, v, ok := strings.Cut(in.args, "="); ok && len(froms) == 0 {
				args[k] = v
			}
		case "FROM":
			f := strings.Fields(in.args)
			img := ""
			for i, w := range f {
				if strings.HasPrefix(w, "--") {
					continue
				}
				img = w
				if i+2 < len(f) && strings.EqualFold(f[i+1], "AS") {
					stages = append(stages, f[i+2])
				}
				break
			}
			for k, v := range args {
				img = strings.ReplaceAll(img, "${"+k+"}", v)
			}
			froms = append(froms, img)
		case "USER":
			user = in.args
		case "EXPOSE":
			expose = in.args
		case "COPY":
			var srcs []string
			from := ""
			for _, w := range strings.Fields(in.args) {
				if v, ok := strings.CutPrefix(w, "--from="); ok {
					from = v
				} else if !strings.HasPrefix(w, "--") {
					srcs = append(srcs, w)
				}
			}
			srcs = srcs[:len(srcs)-1] // the last word is the destination
			if from != "" {
				if !slices.Contains(stages, from) {
					t.Errorf("COPY --from=%s names no earlier stage (stages %v)", from, stages)
				}
				continue
			}
			for _, s := range srcs {
				if _, err := os.Stat(repoPath(s)); err != nil {
					t.Errorf("COPY %s: not in the build context (the repository root): %v", s, err)
				}
			}
		}
	}
	if len(froms) != 2 {
		t.Fatalf("FROM %v: want a build stage and a runtime stage", froms)
	}
	for _, img := range froms {
		_, tag, ok := strings.Cut(img[strings.LastIndex(img, "/")+1:], ":")
		if !ok || tag == "" || tag == "latest" || strings.Contains(img, "$") {
			t.Errorf("base image %q is not pinned to a tag", img)
		}
	}
	gomod := string(mustRead(t, repoPath("go.mod")))
	if v := args["GO_VERSION"]; !strings.Contains(gomod, "\ngo "+v+"\n") {
		t.Errorf("GO_VERSION=%s differs from go.mod's go directive", v)
	}
	if want := "gcr.io/distroless/static-debian12:nonroot"; froms[len(froms)-1] != want {
		t.Errorf("runtime image %q, want %s", froms[len(froms)-1], want)
	}
	if user != "nonroot:nonroot" && user != "65532:65532" && user != "nonroot" {
		t.Errorf("USER %q, want the distroless nonroot user", user)
	}
	main := string(mustRead(t, repoPath("cmd/ztmm-exporter/main.go")))
	m := regexp.MustCompile(`kingpinflag\.AddFlags\(app, ":(\d+)"\)`).FindStringSubmatch(main)
	if m == nil {
		t.Fatal("cannot find the exporter's default listen port in cmd/ztmm-exporter/main.go")
	}
	if expose != m[1] {
		t.Errorf("EXPOSE %q, want the exporter's default port %s", expose, m[1])
	}
	var build string
	for _, in := range instrs {
		if in.cmd == "RUN" && strings.Contains(in.args, "go build") {
			build = in.args
		}
	}
	for _, v := range []string{"version.Version=${VERSION}", "version.Revision=${REVISION}", "./cmd/ztmm-exporter", "CGO_ENABLED=0"} {
		if !strings.Contains(build, v) {
			t.Errorf("go build does not contain %q: %s", v, build)
		}
	}
}

// TestDockerignoreKeepsTheExporterSources: the build context must hold every file `go build` reads.
func TestDockerignoreKeepsTheExporterSources(t *testing.T) {
	var patterns []string
	for _, l := range strings.Split(string(mustRead(t, repoPath("deploy/docker/Dockerfile.dockerignore"))), "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			patterns = append(patterns, l)
		}
	}
	cmd := exec.Command("go", "list", "-deps", "-json=Dir,GoFiles,EmbedFiles,Module", "./cmd/ztmm-exporter")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	abs, _ := filepath.Abs(root)
	dec := json.NewDecoder(bytes.NewReader(out))
	checked := 0
	for {
		var p struct {
			Dir                 string
			GoFiles, EmbedFiles []string
			Module              *struct{ Main bool }
		}
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		if p.Module == nil || !p.Module.Main {
			continue
		}
		for _, f := range append(p.GoFiles, p.EmbedFiles...) {
			rel, _ := filepath.Rel(abs, filepath.Join(p.Dir, f))
			rel = filepath.ToSlash(rel)
			checked++
			for _, pat := range patterns {
				// Docker matches patterns from the context root; a match of a parent excludes the file.
				for dir := rel; dir != "."; dir = filepath.ToSlash(filepath.Dir(dir)) {
					if ok, _ := filepath.Match(pat, dir); ok {
						t.Errorf("%s is needed by go build but excluded by %q", rel, pat)
					}
				}
			}
		}
	}
	if checked == 0 {
		t.Fatal("go list found no source files of the exporter")
	}
}

func TestComposeReferencesOnlyExistingFiles(t *testing.T) {
	const dir = "compose"
	docs, err := decodeAll(mustRead(t, filepath.Join(dir, "compose.yaml")))
	if err != nil {
		t.Fatal(err)
	}
	services, _ := lookup(docs[0], "services").(map[string]any)
	for _, want := range []string{"ztmm-exporter", "prometheus", "alertmanager", "grafana"} {
		if services[want] == nil {
			t.Errorf("compose has no %s service", want)
		}
	}
	exists := func(what, p string) {
		t.Helper()
		if _, err := os.Stat(filepath.Join(dir, p)); err != nil {
			t.Errorf("%s: %v", what, err)
		}
	}
	for name, s := range services {
		if ctx := str(s, "build", "context"); ctx != "" {
			exists(name+" build context", ctx)
			exists(name+" dockerfile", filepath.Join(ctx, str(s, "build", "dockerfile")))
		} else if img := str(s, "image"); !regexp.MustCompile(`:v?\d+\.\d+\.\d+$`).MatchString(img) {
			t.Errorf("%s: image %q is not pinned to a version", name, img)
		}
		for _, v := range list(s, "volumes") {
			src, _, _ := strings.Cut(v.(string), ":")
			if strings.HasPrefix(src, ".") || strings.HasPrefix(src, "/") {
				exists(name+" volume "+src, src)
			}
		}
		for _, cmd := range list(s, "command") {
			if strings.Contains(cmd.(string), "--demo") && name != "ztmm-exporter" {
				t.Errorf("%s runs --demo", name)
			}
		}
	}

	// Grafana loads the dashboards from where compose mounts dashboards/, and queries the compose Prometheus.
	grafanaTargets := map[string]string{}
	for _, v := range list(services["grafana"], "volumes") {
		src, dst, _ := strings.Cut(v.(string), ":")
		dst, _, _ = strings.Cut(dst, ":")
		grafanaTargets[dst] = src
	}
	provisioning := grafanaTargets["/etc/grafana/provisioning"]
	if provisioning == "" {
		t.Fatal("grafana: deploy/grafana/provisioning is not mounted at /etc/grafana/provisioning")
	}
	providers, _ := filepath.Glob(filepath.Join(dir, provisioning, "dashboards", "*.y*ml"))
	datasources, _ := filepath.Glob(filepath.Join(dir, provisioning, "datasources", "*.y*ml"))
	if len(providers) == 0 || len(datasources) == 0 {
		t.Fatalf("grafana provisioning under %s lacks dashboards/ or datasources/ files", provisioning)
	}
	for _, p := range providers {
		docs, err := decodeAll(mustRead(t, p))
		if err != nil {
			t.Fatal(err)
		}
		for _, pr := range list(docs[0], "providers") {
			path := str(pr, "options", "path")
			if src := grafanaTargets[path]; filepath.Clean(filepath.Join(dir, src)) != filepath.Clean(repoPath("dashboards")) {
				t.Errorf("%s: provider %s reads %s, where compose mounts %q, not the repository's dashboards/", p, str(pr, "name"), path, src)
			}
		}
	}
	for _, p := range datasources {
		docs, err := decodeAll(mustRead(t, p))
		if err != nil {
			t.Fatal(err)
		}
		for _, ds := range list(docs[0], "datasources") {
			u, err := url.Parse(str(ds, "url"))
			if err != nil || services[u.Hostname()] == nil {
				t.Errorf("%s: data source %s points at %q, not a compose service", p, str(ds, "name"), str(ds, "url"))
			}
		}
	}

	// Prometheus finds the exporter and Alertmanager by their compose service names and ports.
	for file, service := range map[string]string{"ztmm.yml": "ztmm-exporter", "alertmanager.yml": "alertmanager"} {
		tg, err := decodeTargets(filepath.Join(dir, "targets", file))
		if err != nil {
			t.Fatal(err)
		}
		for _, addr := range tg {
			host, port, _ := net.SplitHostPort(addr)
			if services[host] == nil {
				t.Errorf("targets/%s: %s is not a compose service", file, addr)
			}
			published := false
			for _, p := range list(services[host], "ports") {
				published = published || strings.HasSuffix(p.(string), ":"+port)
			}
			if !published && host == service {
				t.Errorf("targets/%s: %s does not publish port %s", file, host, port)
			}
		}
	}
}

func decodeTargets(p string) ([]string, error) {
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, err
	}
	var groups []struct {
		Targets []string `yaml:"targets"`
	}
	if err := yaml.Unmarshal(b, &groups); err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	var out []string
	for _, g := range groups {
		out = append(out, g.Targets...)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s lists no target", p)
	}
	return out, nil
}

// freeAddr returns a loopback address with a port nobody listens on right now.
func freeAddr(t *testing.T) (host, port string) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	host, port, _ = net.SplitHostPort(l.Addr().String())
	return host, port
}

func getJSON(u string, v any) error {
	c := http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(u)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", u, resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

// poll calls f until it returns nil or the generous deadline passes (then it fails with f's last error).
// The deadline only bounds a hang; nothing asserts how fast the stack comes up.
func poll(t *testing.T, what string, f func() error) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %v", what, err)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// TestStack runs `make stack`'s script as a user would and proves that Prometheus scrapes the exporter,
// has ztmm's rules loaded and knows Alertmanager, then presses Ctrl-C and checks that everything stopped.
func TestStack(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the exporter, Prometheus and Alertmanager")
	}
	binary(t, "prometheus")
	binary(t, "prometheus-alertmanager", "alertmanager")
	bin := filepath.Join(t.TempDir(), "ztmm-exporter")
	build := exec.Command("go", "build", "-o", bin, "./cmd/ztmm-exporter")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}

	host, exporterPort := freeAddr(t)
	_, promPort := freeAddr(t)
	_, amPort := freeAddr(t)
	stateDir := t.TempDir()
	cmd := exec.Command("bash", filepath.Join("stack", "stack.sh"))
	cmd.Env = append(os.Environ(),
		"STACK_EXPORTER="+bin,
		"STACK_EXPORTER_PORT="+exporterPort,
		"STACK_PROMETHEUS_PORT="+promPort,
		"STACK_ALERTMANAGER_PORT="+amPort,
		"STACK_DIR="+stateDir,
	)
	var out e2e.Output
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			cmd.Process.Signal(os.Interrupt)
			select {
			case <-done:
			case <-time.After(time.Minute):
				cmd.Process.Kill()
			}
		}
		if t.Failed() {
			t.Logf("stack output:\n%s", out.String())
			for _, n := range []string{"ztmm-exporter", "prometheus", "alertmanager"} {
				b, _ := os.ReadFile(filepath.Join(stateDir, "logs", n+".log"))
				t.Logf("%s log:\n%s", n, b)
			}
		}
	})

	prom := "http://" + net.JoinHostPort(host, promPort)
	poll(t, "stack prints its URLs", func() error {
		select {
		case err := <-done:
			stopped = true
			t.Fatalf("stack exited before it was up: %v\n%s", err, out.String())
		default:
		}
		for _, u := range []string{prom + "/", "http://" + net.JoinHostPort(host, exporterPort) + "/metrics", "http://" + net.JoinHostPort(host, amPort) + "/"} {
			if !strings.Contains(out.String(), u) {
				return fmt.Errorf("output does not show %s yet", u)
			}
		}
		return nil
	})

	poll(t, `Prometheus scrapes the exporter (up{job="ztmm"} == 1)`, func() error {
		var r struct {
			Data struct {
				Result []struct {
					Metric map[string]string `json:"metric"`
					Value  []any             `json:"value"`
				} `json:"result"`
			} `json:"data"`
		}
		if err := getJSON(prom+"/api/v1/query?query="+url.QueryEscape(`up{job="ztmm"}`), &r); err != nil {
			return err
		}
		if len(r.Data.Result) != 1 {
			return fmt.Errorf("up{job=\"ztmm\"} has %d series, want 1", len(r.Data.Result))
		}
		if inst := r.Data.Result[0].Metric["instance"]; inst != net.JoinHostPort(host, exporterPort) {
			return fmt.Errorf("scraped instance %s, want the stack's exporter %s:%s", inst, host, exporterPort)
		}
		if v := r.Data.Result[0].Value[1]; v != "1" {
			return fmt.Errorf("up = %v", v)
		}
		return nil
	})

	// The loaded rule groups are exactly those of the repository's rule file.
	rf, err := decodeAll(mustRead(t, repoPath("alerts/ztmm.rules.yml")))
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, g := range list(rf[0], "groups") {
		want = append(want, str(g, "name"))
	}
	sort.Strings(want)
	poll(t, "Prometheus has ztmm's rules loaded", func() error {
		var r struct {
			Data struct {
				Groups []struct {
					Name  string `json:"name"`
					Rules []struct {
						Health string `json:"health"`
					} `json:"rules"`
				} `json:"groups"`
			} `json:"data"`
		}
		if err := getJSON(prom+"/api/v1/rules", &r); err != nil {
			return err
		}
		var got []string
		for _, g := range r.Data.Groups {
			got = append(got, g.Name)
			if len(g.Rules) == 0 {
				return fmt.Errorf("group %s has no rules", g.Name)
			}
		}
		sort.Strings(got)
		if !slices.Equal(got, want) {
			return fmt.Errorf("rule groups %v, want %v", got, want)
		}
		return nil
	})

	poll(t, "Prometheus sends alerts to the stack's Alertmanager", func() error {
		var r struct {
			Data struct {
				Active []struct {
					URL string `json:"url"`
				} `json:"activeAlertmanagers"`
			} `json:"data"`
		}
		if err := getJSON(prom+"/api/v1/alertmanagers", &r); err != nil {
			return err
		}
		for _, a := range r.Data.Active {
			if strings.Contains(a.URL, "//"+net.JoinHostPort(host, amPort)+"/") {
				return nil
			}
		}
		return fmt.Errorf("active Alertmanagers %v, want %s:%s", r.Data.Active, host, amPort)
	})

	// Ctrl-C: the terminal sends SIGINT; the script must stop its children and exit.
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	var waitErr error
	select {
	case waitErr = <-done:
		stopped = true
	case <-time.After(2 * time.Minute):
		t.Fatal("stack did not exit after SIGINT")
	}
	var exit *exec.ExitError
	if !errors.As(waitErr, &exit) || exit.Sys().(syscall.WaitStatus).ExitStatus() != 130 {
		t.Errorf("stack exited with %v after SIGINT, want status 130 (interrupted)", waitErr)
	}
	if !strings.Contains(out.String(), "stack: stopped") {
		t.Errorf("stack did not report that it stopped:\n%s", out.String())
	}
	// The script waits for its children before it exits, so nothing may listen any more.
	for _, p := range []string{exporterPort, promPort, amPort} {
		if c, err := net.Dial("tcp", net.JoinHostPort(host, p)); err == nil {
			c.Close()
			t.Errorf("port %s still accepts connections after the stack stopped", p)
		}
	}
}
