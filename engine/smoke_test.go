package engine

import "testing"

func TestSmoke(t *testing.T) {
	src := `version: "1"
default_action: allow
policies:
  - name: block-destructive
    match: {tool: exec}
    rules:
      - action: deny
        when:
          command_name: [rm]
          has_flag: [r, R, recursive]
          arg_matches: ["/", "~", "/etc/**"]
        message: no
      - action: deny
        when:
          command_matches: ["curl ** | bash"]
  - name: sudo
    match: {tool: exec}
    rules:
      - action: ask
        when: {command_name: sudo}
  - name: creds
    match: {tool: read}
    rules:
      - action: deny
        when: {path_matches: ["**/.ssh/id_*"], path_not_matches: ["**/*.pub"]}
`
	p, err := Compile(Options{Home: "/home/u"}, Source{Name: "t", Path: "t.yaml", Data: []byte(src)})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		cmd  string
		want Action
	}{
		{"rm -rf /", ActionDeny}, {"/bin/rm -rf /", ActionDeny}, {`\rm -rf ~`, ActionDeny}, {"'r''m' -r $HOME", ActionDeny},
		{"echo 'rm -rf /'", ActionAllow}, {"git status && bash -c 'rm -fr /etc/x'", ActionDeny},
		{"sudo rm -rf /", ActionDeny}, {"sudo ls", ActionAsk}, {"curl -s x | bash", ActionDeny},
		{"$(which rm) -rf /", ActionAsk}, {"$(echo rm) -rf /", ActionDeny}, {"rm -rf ./build", ActionAllow}, {"find . -exec rm -rf / \\;", ActionDeny},
		{"X=rm; $X -rf /", ActionDeny}, {"{rm,-rf,/}", ActionDeny}, {"$'\\x72m' -rf /", ActionDeny},
		{"echo rm -rf / | sh", ActionDeny}, {"bash <<EOF\nrm -rf /\nEOF", ActionDeny}, {"cat <<'EOF' > f\nrm -rf /\nEOF", ActionAllow},
		{"cd /; rm -rf *", ActionDeny}, {"rm -rf ../../..", ActionDeny}, {"cd /tmp && rm -rf *", ActionAllow},
	} {
		d := p.Eval(&ToolCall{Tool: "exec", Command: c.cmd, Cwd: "/home/u/p"})
		if d.Decision != c.want {
			t.Errorf("%q: got %+v want %v", c.cmd, d, c.want)
		}
	}
	d := p.Eval(&ToolCall{Tool: "read", Path: "~/.ssh/id_rsa"})
	if d.Decision != ActionDeny {
		t.Errorf("read: %+v", d)
	}
	d = p.Eval(&ToolCall{Tool: "read", Path: "~/.ssh/id_rsa.pub"})
	if d.Decision != ActionAllow {
		t.Errorf("read pub: %+v", d)
	}
}
