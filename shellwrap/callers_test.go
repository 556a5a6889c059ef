package shellwrap

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Real programs that run commands through $SHELL: what is allowed behaves
// as with bash, what is denied does not run.
func TestRealCallers(t *testing.T) {
	sh, err := rampartSh()
	if err != nil {
		t.Fatal(err)
	}
	home, env := sandboxEnv(t)
	env = append(env, "SHELL="+sh)
	ok := filepath.Join(home, "ok-marker")
	bad := filepath.Join(home, "denied-marker")
	allowed := "touch " + ok + " && echo allowed-ran"
	denied := "touch " + bad + " && cat ~/.ssh/id_rsa"

	type caller struct {
		name string
		argv []string
		skip string // the program that must exist
	}
	callers := []caller{
		{"python3 subprocess", []string{"python3", "-c", `
import os, subprocess, sys
r = subprocess.run([os.environ["SHELL"], "-c", sys.argv[1]], capture_output=True, text=True)
print(r.returncode, r.stdout.strip(), r.stderr.strip()[:17])
r = subprocess.run([os.environ["SHELL"], "-c", sys.argv[2]], capture_output=True, text=True)
print(r.returncode, r.stdout.strip(), r.stderr.strip()[:17])
`, allowed, denied}, "python3"},
		{"node child_process.exec", []string{"node", "-e", `
const cp = require("child_process");
for (const c of process.argv.slice(1)) {
  try { console.log(0, cp.execSync(c, { shell: process.env.SHELL, stdio: ["ignore", "pipe", "pipe"] }).toString().trim()); }
  catch (e) { console.log(e.status, "", e.stderr.toString().trim().slice(0, 17)); }
}`, allowed, denied}, "node"},
		{"make SHELL=rampart-sh", []string{"make", "-s", "-f", "-", "SHELL=" + sh}, "make"},
	}
	for _, c := range callers {
		t.Run(c.name, func(t *testing.T) {
			if _, err := exec.LookPath(c.skip); err != nil {
				t.Fatalf("%s is not installed: %v", c.skip, err)
			}
			os.Remove(ok)
			os.Remove(bad)
			cmd := exec.Command(c.argv[0], c.argv[1:]...)
			cmd.Env, cmd.Dir = env, home
			if c.skip == "make" {
				cmd.Stdin = strings.NewReader("all:\n\t" + allowed + "\n\t" + denied + "\n")
			}
			out, _ := cmd.CombinedOutput()
			if _, err := os.Stat(ok); err != nil {
				t.Errorf("the allowed command did not run:\n%s", out)
			}
			if _, err := os.Stat(bad); err == nil {
				t.Errorf("the denied command ran:\n%s", out)
			}
			if strings.Contains(string(out), "FAKE-KEY") {
				t.Errorf("the key was printed:\n%s", out)
			}
			if !strings.Contains(string(out), "allowed-ran") || !strings.Contains(string(out), "rampart: blocked:") && !strings.Contains(string(out), "126") {
				t.Errorf("output:\n%s", out)
			}
		})
	}
}
