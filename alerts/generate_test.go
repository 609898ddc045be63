package alerts

import (
	"testing"
)

func TestFilesPaths(t *testing.T) {
	files, err := Files()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{RulesPath, RunbookPath, PrometheusRulePath,
		TestsDir + "/kpi.test.yml", TestsDir + "/predict.test.yml", TestsDir + "/health.test.yml"} {
		if len(files[want]) == 0 {
			t.Errorf("Files() has no %s", want)
		}
	}
}
