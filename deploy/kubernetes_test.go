package deploy

import (
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

type kustomization struct {
	APIVersion         string      `yaml:"apiVersion"`
	Kind               string      `yaml:"kind"`
	Namespace          string      `yaml:"namespace"`
	Resources          []string    `yaml:"resources"`
	ConfigMapGenerator []generator `yaml:"configMapGenerator"`
	SecretGenerator    []generator `yaml:"secretGenerator"`
	Images             []struct {
		Name    string `yaml:"name"`
		NewName string `yaml:"newName"`
		NewTag  string `yaml:"newTag"`
	} `yaml:"images"`
	Labels []struct {
		Pairs            map[string]string `yaml:"pairs"`
		IncludeSelectors bool              `yaml:"includeSelectors"`
	} `yaml:"labels"`
	Patches []any `yaml:"patches"`
}

type generator struct {
	Name     string   `yaml:"name"`
	Behavior string   `yaml:"behavior"`
	Files    []string `yaml:"files"`
}

// buildKustomization is a small stand-in for `kustomize build`, enough for ztmm's own manifests: resources
// (files and directories), config map and secret generators (without the hash suffix), namespace, labels
// and images. Patches are not applied. Secret files need not exist (they are the user's tokens, never
// committed); ConfigMap files must.
func buildKustomization(t *testing.T, dir string) []map[string]any {
	t.Helper()
	var k kustomization
	b := mustRead(t, filepath.Join(dir, "kustomization.yaml"))
	dec := yaml.NewDecoder(strings.NewReader(string(b)))
	dec.KnownFields(true)
	if err := dec.Decode(&k); err != nil {
		t.Fatalf("%s/kustomization.yaml: %v", dir, err)
	}
	var objs []map[string]any
	for _, r := range k.Resources {
		p := filepath.Join(dir, r)
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatalf("%s: resource %s: %v", dir, r, err)
		}
		if fi.IsDir() {
			objs = append(objs, buildKustomization(t, p)...)
			continue
		}
		docs, err := decodeAll(mustRead(t, p))
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		objs = append(objs, docs...)
	}
	generate := func(kind string, g generator, mustExist bool) {
		data := map[string]any{}
		for _, f := range g.Files {
			key, path, ok := strings.Cut(f, "=")
			if !ok {
				key, path = filepath.Base(f), f
			}
			if mustExist {
				data[key] = string(mustRead(t, filepath.Join(dir, path)))
			} else {
				data[key] = ""
			}
		}
		obj := map[string]any{"apiVersion": "v1", "kind": kind, "metadata": map[string]any{"name": g.Name}, "data": data}
		switch g.Behavior {
		case "", "create":
			objs = append(objs, obj)
		case "replace", "merge":
			for i, o := range objs {
				if str(o, "kind") == kind && str(o, "metadata", "name") == g.Name {
					if g.Behavior == "merge" {
						for k, v := range o["data"].(map[string]any) {
							if _, ok := data[k]; !ok {
								data[k] = v
							}
						}
					}
					objs[i] = obj
					return
				}
			}
			t.Fatalf("%s: %s %s has behavior %s but no base defines it", dir, kind, g.Name, g.Behavior)
		default:
			t.Fatalf("%s: %s %s: unknown behavior %q", dir, kind, g.Name, g.Behavior)
		}
	}
	for _, g := range k.ConfigMapGenerator {
		generate("ConfigMap", g, true)
	}
	for _, g := range k.SecretGenerator {
		generate("Secret", g, false)
	}
	for _, o := range objs {
		meta, _ := o["metadata"].(map[string]any)
		if k.Namespace != "" {
			meta["namespace"] = k.Namespace
		}
		for _, l := range k.Labels {
			labels, _ := meta["labels"].(map[string]any)
			if labels == nil {
				labels = map[string]any{}
				meta["labels"] = labels
			}
			for lk, lv := range l.Pairs {
				labels[lk] = lv
			}
		}
		for _, c := range list(o, "spec", "template", "spec", "containers") {
			cm := c.(map[string]any)
			for _, im := range k.Images {
				name, tag, _ := strings.Cut(cm["image"].(string), ":")
				if name != im.Name {
					continue
				}
				if im.NewName != "" {
					name = im.NewName
				}
				if im.NewTag != "" {
					tag = im.NewTag
				}
				cm["image"] = name + ":" + tag
			}
		}
	}
	return objs
}

var hashSuffix = regexp.MustCompile(`-[a-z0-9]{10}$`)

// checkManifests asserts what ztmm's Kubernetes bundle must contain, on the output of either kustomize or
// buildKustomization. hashed says whether generated names carry kustomize's content hash.
func checkManifests(t *testing.T, objs []map[string]any, hashed bool, namespace string) {
	t.Helper()
	byKind := map[string]map[string]map[string]any{}
	var names []string
	for _, o := range objs {
		kind, name := str(o, "kind"), str(o, "metadata", "name")
		if hashed && (kind == "ConfigMap" || kind == "Secret") && (strings.HasPrefix(name, "ztmm-config-") || strings.HasPrefix(name, "ztmm-tokens-")) {
			if !hashSuffix.MatchString(name) {
				t.Errorf("%s %s: want kustomize's content hash in the name, so edits roll the Deployment out", kind, name)
			}
		}
		if byKind[kind] == nil {
			byKind[kind] = map[string]map[string]any{}
		}
		byKind[kind][name] = o
		names = append(names, kind+"/"+name)
		if namespace != "" && str(o, "metadata", "namespace") != namespace {
			t.Errorf("%s/%s is in namespace %q, want %q", kind, name, str(o, "metadata", "namespace"), namespace)
		}
		if str(o, "metadata", "labels", "app.kubernetes.io/part-of") != "ztmm" {
			t.Errorf("%s/%s lacks app.kubernetes.io/part-of=ztmm", kind, name)
		}
	}
	sort.Strings(names)
	one := func(kind, name string) map[string]any {
		t.Helper()
		if o := byKind[kind][name]; o != nil {
			return o
		}
		t.Fatalf("no %s/%s in the output; have %v", kind, name, names)
		return nil
	}
	dep := one("Deployment", "ztmm-exporter")
	svc := one("Service", "ztmm-exporter")
	sm := one("ServiceMonitor", "ztmm-exporter")
	rule := one("PrometheusRule", "ztmm")
	one("ServiceAccount", "ztmm-exporter")

	// Dashboards: one ConfigMap per dashboards/*.json, labelled for the Grafana sidecar.
	jsons, _ := filepath.Glob(repoPath("dashboards/*.json"))
	if len(jsons) == 0 {
		t.Error("no dashboards/*.json to check the dashboard ConfigMaps against")
	}
	for _, j := range jsons {
		base := filepath.Base(j)
		cm := byKind["ConfigMap"]["ztmm-dashboard-"+dnsLabel(strings.TrimSuffix(base, ".json"))]
		if cm == nil {
			t.Errorf("no ConfigMap holds dashboard %s", base)
			continue
		}
		if str(cm, "metadata", "labels", "grafana_dashboard") != "1" {
			t.Errorf("dashboard ConfigMap of %s lacks grafana_dashboard: \"1\"", base)
		}
		if str(cm, "data", base) != string(mustRead(t, j)) {
			t.Errorf("dashboard ConfigMap of %s differs from the file: run make generate", base)
		}
	}
	if groups := list(rule, "spec", "groups"); len(groups) == 0 {
		t.Error("the PrometheusRule has no rule groups")
	}

	// Pod security.
	pod := lookup(dep, "spec", "template", "spec")
	for _, c := range []struct {
		path []any
		want any
	}{
		{[]any{"securityContext", "runAsNonRoot"}, true},
		{[]any{"securityContext", "seccompProfile", "type"}, "RuntimeDefault"},
		{[]any{"automountServiceAccountToken"}, false},
		{[]any{"serviceAccountName"}, "ztmm-exporter"},
	} {
		if got := lookup(pod, c.path...); got != c.want {
			t.Errorf("pod %v = %v, want %v", c.path, got, c.want)
		}
	}
	containers := list(pod, "containers")
	if len(containers) != 1 {
		t.Fatalf("want one container, have %d", len(containers))
	}
	c := containers[0]
	for _, s := range []struct {
		path []any
		want any
	}{
		{[]any{"securityContext", "readOnlyRootFilesystem"}, true},
		{[]any{"securityContext", "runAsNonRoot"}, true},
		{[]any{"securityContext", "allowPrivilegeEscalation"}, false},
		{[]any{"securityContext", "capabilities", "drop", 0}, "ALL"},
		{[]any{"securityContext", "seccompProfile", "type"}, "RuntimeDefault"},
		{[]any{"livenessProbe", "httpGet", "path"}, "/-/healthy"},
		{[]any{"readinessProbe", "httpGet", "path"}, "/-/ready"},
	} {
		if got := lookup(c, s.path...); got != s.want {
			t.Errorf("container %v = %v, want %v", s.path, got, s.want)
		}
	}
	for _, r := range []string{"requests", "limits"} {
		if lookup(c, "resources", r, "memory") == nil {
			t.Errorf("container has no memory %s", r)
		}
	}
	if img := str(c, "image"); !regexp.MustCompile(`^[a-z0-9.-]+/[a-z0-9./-]+:v\d+\.\d+\.\d+$`).MatchString(img) {
		t.Errorf("image %q: want a registry image pinned to a release tag", img)
	}
	ports := map[string]int{}
	for _, p := range list(c, "ports") {
		ports[str(p, "name")] = lookup(p, "containerPort").(int)
	}
	if ports["http-metrics"] != 9917 {
		t.Errorf("container ports %v, want http-metrics: 9917 (the exporter's default)", ports)
	}
	for _, probe := range []string{"livenessProbe", "readinessProbe"} {
		if p := lookup(c, probe, "httpGet", "port"); p != "http-metrics" && p != 9917 {
			t.Errorf("%s probes port %v, not the exporter's", probe, p)
		}
	}

	// Volumes: the config ConfigMap at the path of --config.file, the tokens Secret where ztmm.yml's
	// token_file fields point, and every referenced object exists.
	args := strings.Join(func() []string {
		var s []string
		for _, a := range list(c, "args") {
			s = append(s, a.(string))
		}
		return s
	}(), " ")
	mounts := map[string]string{}
	for _, m := range list(c, "volumeMounts") {
		mounts[str(m, "name")] = str(m, "mountPath")
	}
	var configMapName, secretName string
	for _, v := range list(pod, "volumes") {
		name := str(v, "name")
		switch {
		case lookup(v, "configMap") != nil:
			configMapName = str(v, "configMap", "name")
			if byKind["ConfigMap"][configMapName] == nil {
				t.Errorf("volume %s: ConfigMap %s does not exist", name, configMapName)
			}
			if want := "--config.file=" + mounts[name] + "/ztmm.yml"; !strings.Contains(args, want) {
				t.Errorf("args %q do not contain %s", args, want)
			}
		case lookup(v, "secret") != nil:
			secretName = str(v, "secret", "secretName")
			if mounts[name] != "/etc/ztmm/secrets" {
				t.Errorf("tokens mounted at %q, want /etc/ztmm/secrets (where ztmm.yml's token_file fields point)", mounts[name])
			}
		}
	}
	if configMapName == "" || secretName == "" {
		t.Fatalf("want a ConfigMap volume and a Secret volume, have configMap %q secret %q", configMapName, secretName)
	}
	if !strings.HasPrefix(configMapName, "ztmm-config") || !strings.HasPrefix(secretName, "ztmm-tokens") {
		t.Errorf("volumes name ConfigMap %q and Secret %q, want ztmm-config and ztmm-tokens", configMapName, secretName)
	}
	if sec := byKind["Secret"][secretName]; sec != nil {
		// The token files ztmm.yml reads are the Secret's keys.
		cfg := str(byKind["ConfigMap"][configMapName], "data", "ztmm.yml")
		for _, m := range regexp.MustCompile(`token_file:\s*/etc/ztmm/secrets/([A-Za-z0-9._-]+)`).FindAllStringSubmatch(cfg, -1) {
			if _, ok := lookup(sec, "data", m[1]).(string); !ok {
				t.Errorf("ztmm.yml reads token file %s, which Secret %s does not hold", m[1], secretName)
			}
		}
	}

	// Service selects the pods, ServiceMonitor selects the Service and scrapes a port it has, as job ztmm.
	podLabels, _ := lookup(dep, "spec", "template", "metadata", "labels").(map[string]any)
	for k, v := range lookup(svc, "spec", "selector").(map[string]any) {
		if podLabels[k] != v {
			t.Errorf("Service selector %s=%v does not match the pod labels %v", k, v, podLabels)
		}
	}
	svcLabels, _ := lookup(svc, "metadata", "labels").(map[string]any)
	for k, v := range lookup(sm, "spec", "selector", "matchLabels").(map[string]any) {
		if svcLabels[k] != v {
			t.Errorf("ServiceMonitor selector %s=%v does not match the Service labels %v", k, v, svcLabels)
		}
	}
	var svcPorts []string
	for _, p := range list(svc, "spec", "ports") {
		svcPorts = append(svcPorts, str(p, "name"))
	}
	if port := str(sm, "spec", "endpoints", 0, "port"); !slices.Contains(svcPorts, port) {
		t.Errorf("ServiceMonitor scrapes port %q; the Service has %v", port, svcPorts)
	}
	if job := svcLabels[str(sm, "spec", "jobLabel")]; job != "ztmm" {
		t.Errorf("ServiceMonitor jobLabel %q gives job %v, want ztmm as in deploy/prometheus/prometheus.yml", str(sm, "spec", "jobLabel"), job)
	}
}

func TestKubernetesManifests(t *testing.T) {
	tests := []struct {
		dir, namespace string
	}{
		{"kubernetes/base", ""},
		{"kubernetes/overlays/example", "monitoring"},
	}
	for _, tt := range tests {
		t.Run(tt.dir, func(t *testing.T) {
			objs := buildKustomization(t, tt.dir)
			if tt.dir == "kubernetes/base" {
				// The base leaves the Secret to overlays (tokens are never committed): add what they generate.
				objs = append(objs, map[string]any{"kind": "Secret", "metadata": map[string]any{"name": "ztmm-tokens", "labels": map[string]any{"app.kubernetes.io/part-of": "ztmm"}}, "data": map[string]any{"github-token": ""}})
			}
			checkManifests(t, objs, false, tt.namespace)
		})
	}
}

// TestKustomizeBuild runs the real kustomize (kubectl kustomize) when it is installed, on a copy of
// deploy/kubernetes with dummy token files, and checks its output like TestKubernetesManifests does.
func TestKustomizeBuild(t *testing.T) {
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		t.Skip("kubectl not installed: TestKubernetesManifests checks the manifests without it")
	}
	tmp := t.TempDir()
	err = filepath.WalkDir("kubernetes", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		to := filepath.Join(tmp, p)
		if d.IsDir() {
			return os.MkdirAll(to, 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(to, b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	overlay := filepath.Join(tmp, "kubernetes", "overlays", "example")
	for _, f := range []string{"github-token", "gitlab-token"} {
		if err := os.WriteFile(filepath.Join(overlay, "secrets", f), []byte("dummy\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	out, err := exec.Command(kubectl, "kustomize", overlay).Output()
	if err != nil {
		msg := ""
		if ee, ok := err.(*exec.ExitError); ok {
			msg = string(ee.Stderr)
		}
		t.Fatalf("kubectl kustomize: %v\n%s", err, msg)
	}
	objs, err := decodeAll(out)
	if err != nil {
		t.Fatal(err)
	}
	checkManifests(t, objs, true, "monitoring")
	// Patches are only applied by the real kustomize: kube-prometheus-stack's selector label.
	for _, o := range objs {
		if k := str(o, "kind"); (k == "ServiceMonitor" || k == "PrometheusRule") && str(o, "metadata", "labels", "release") == "" {
			t.Errorf("%s/%s lacks the release label the example overlay adds", k, str(o, "metadata", "name"))
		}
	}
}

// TestExampleConfigsAreValid loads every ztmm.yml of the Kubernetes bundle with the exporter's loader.
func TestExampleConfigsAreValid(t *testing.T) {
	for _, f := range []string{"kubernetes/base/ztmm.yml", "kubernetes/overlays/example/ztmm.yml"} {
		t.Run(f, func(t *testing.T) {
			names := loadExampleConfig(t, f, "/etc/ztmm/secrets")
			if len(names) == 0 {
				t.Errorf("%s reads no token from /etc/ztmm/secrets", f)
			}
			// Every token the overlay's config reads is a key of its secretGenerator.
			if strings.Contains(f, "overlays") {
				k := string(mustRead(t, filepath.Join(filepath.Dir(f), "kustomization.yaml")))
				for _, n := range names {
					if !strings.Contains(k, fmt.Sprintf("- %s=secrets/%s", n, n)) {
						t.Errorf("the overlay's secretGenerator has no key %s for %s", n, f)
					}
				}
			}
		})
	}
}
