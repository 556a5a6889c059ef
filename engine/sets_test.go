package engine

import "testing"

// The index must never change what a set matches.
func TestPathSetAgreesWithGlobs(t *testing.T) {
	patterns := []string{"**/.aws", "**/.aws/credentials", "**/.ssh/id_*", "**/*.kdbx", "/etc/sudoers.d/**",
		"~/.npmrc", "~", "/", "/proc/*/environ", "**@/etc/shadow", "**/.password-store/**.gpg", "[ab]/x", "*.pem", "./**", "./src/*.go", "**/*.com.1password", "**/*-db", "**/x.tar.gz", "/dev/tcp/**", "~/.rampart/**", "/etc/x", "~/.config/gh/hosts.yml"}
	subjects := []string{"/home/dev/.aws", "/home/dev/.aws/credentials", "x/.ssh/id_rsa", "/a/b.kdbx", "/etc/sudoers.d/x",
		"/home/dev/.npmrc", "/home/dev", "/", "/proc/1/environ", "@/etc/shadow", "/h/.password-store/a/b.gpg", "a/x",
		"k.pem", "/home/dev/project/src/a.go", "/a/b.com.1password", "/q/w-db", "/p/x.tar.gz", "/p/y.tar.gz", "/dev/tcp/1.2.3.4/80", "/home/dev/.rampart/token", "/home/dev/.rampartx/a", "/etc/x", "/home/dev/.config/gh/hosts.yml", "/home/devx/.rampart/a", "/home/dev/projectx/a", "status", "/home/dev/project/status", ".kdbx", "/etc/sudoers.d", "id_rsa"}
	var list []*pathGlob
	for _, p := range patterns {
		pg, err := compilePattern(patPath, p)
		if err != nil {
			t.Fatal(err)
		}
		list = append(list, pg.(*pathGlob))
	}
	set := newPathSet(list)
	for _, s := range subjects {
		want := false
		for _, pg := range list {
			if pg.match(s, pathBase{home: "/home/dev", cwd: "/home/dev/project"}) {
				want = true
			}
		}
		if got := set.match(s, pathBase{home: "/home/dev", cwd: "/home/dev/project"}); got != want {
			t.Errorf("%q: set %v, globs %v", s, got, want)
		}
	}
}
