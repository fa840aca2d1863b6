package adminapi

import "testing"

// TestCompleteURL checks the scheme a typed URL without one gets: http://
// for this machine, https:// for any other host; a URL with a scheme is
// NormalizeURL's.
func TestCompleteURL(t *testing.T) {
	for _, tt := range []struct{ in, want, assumed string }{
		{"127.0.0.1:45079", "http://127.0.0.1:45079", "http://"},
		{"127.1.2.3:7001/", "http://127.1.2.3:7001", "http://"},
		{"LOCALHOST:7001", "http://localhost:7001", "http://"},
		{"[::1]:7001", "http://[::1]:7001", "http://"},
		{"tandem.example.com", "https://tandem.example.com", "https://"},
		{"10.0.0.5:7001", "https://10.0.0.5:7001", "https://"},
		{"http://tandem.example.com/", "http://tandem.example.com", ""},
	} {
		got, assumed, err := CompleteURL(tt.in)
		if err != nil || got != tt.want || assumed != tt.assumed {
			t.Errorf("CompleteURL(%q) = %q, %q, %v; want %q, %q", tt.in, got, assumed, err, tt.want, tt.assumed)
		}
	}
	for _, bad := range []string{"", "ftp://x", "http://"} {
		if _, _, err := CompleteURL(bad); err == nil {
			t.Errorf("CompleteURL(%q) accepted it", bad)
		}
	}
}
