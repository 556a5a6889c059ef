package suggest

import "testing"

func TestClosest(t *testing.T) {
	words := []string{"command", "argv", "path", "url", "name", "session", "lint", "list"}
	for _, c := range []struct{ in, want string }{
		{"cmd", ""},
		{"comand", "command"},
		{"Command", "command"},
		{"pth", "path"},
		{"sess", "session"},
		{"xyz", ""},
		{"lsit", "list"},
		{"", ""},
	} {
		if got := Closest(c.in, words); got != c.want {
			t.Errorf("Closest(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	if got := DidYouMean("standrd", []string{"paranoid", "standard", "yolo"}); got != ` (did you mean "standard"?)` {
		t.Errorf("DidYouMean = %q", got)
	}
}
