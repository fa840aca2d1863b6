package demo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

const (
	// StateName is the file in a demo's data dir that says how to start
	// it again: its nodes, their addresses and admin tokens.
	StateName = "demo.json"
	// EnvName is the file in a demo's data dir with what a person needs to
	// query its trackers: URLs, tokens and a curl line per node.
	EnvName = "demo.env"
	// sandboxStateName is each node's sandbox data, in the node's dir.
	sandboxStateName = "sandbox.json"
)

// kept is demo.json.
type kept struct {
	Version int        `json:"version"`
	Nodes   []keptNode `json:"nodes"`
}

type keptNode struct {
	Name        string `json:"name"`
	Tracker     string `json:"tracker"`
	Project     string `json:"project"`
	Addr        string `json:"addr"`
	SandboxAddr string `json:"sandbox_addr"`
	AdminToken  string `json:"admin_token"`
}

// Kept starts the demo's two nodes (Mixed) in dir and keeps them there:
// each sandbox's data is saved in its node's dir, and demo.json records
// how to start them again. When dir already holds an earlier demo (its
// demo.json), that demo resumes: the same nodes on the same addresses, the
// sandboxes with the data and tokens they had, the connections between
// the nodes as they were. resumed says which it was. CheckDir tells
// beforehand whether dir is fit for either.
func Kept(ctx context.Context, dir string, tune func(*Spec)) (nodes []*Node, resumed bool, err error) {
	specs := mixed()
	b, err := os.ReadFile(filepath.Join(dir, StateName))
	switch {
	case err == nil:
		var k kept
		if err := json.Unmarshal(b, &k); err != nil || k.Version != 1 || len(k.Nodes) == 0 {
			return nil, false, fmt.Errorf("%s in %s is not one tandem demo wrote; start a new demo with another --data", StateName, dir)
		}
		specs = specs[:0]
		for _, n := range k.Nodes {
			specs = append(specs, Spec{Name: n.Name, Tracker: n.Tracker, Project: n.Project,
				Addr: n.Addr, SandboxAddr: n.SandboxAddr, AdminToken: n.AdminToken})
		}
		resumed = true
	case errors.Is(err, fs.ErrNotExist):
	default:
		return nil, false, fmt.Errorf("reading the earlier demo: %w", err)
	}
	nodes, err = start(ctx, dir, func(s *Spec) {
		s.StateFile = filepath.Join(s.DataDir, sandboxStateName)
		if tune != nil {
			tune(s)
		}
	}, specs...)
	if err != nil {
		if resumed {
			return nil, true, fmt.Errorf("resuming the demo in %s: %w (if another program took its port, stop it)", dir, err)
		}
		return nil, false, err
	}
	k := kept{Version: 1}
	for _, n := range nodes {
		k.Nodes = append(k.Nodes, keptNode{Name: n.Name, Tracker: n.Tracker, Project: n.Project,
			Addr: strings.TrimPrefix(n.URL, "http://"), SandboxAddr: n.sbAddr, AdminToken: n.AdminToken})
	}
	b, err = json.MarshalIndent(k, "", "  ")
	if err == nil {
		err = writeFileAtomic(filepath.Join(dir, StateName), append(b, '\n'))
	}
	if err != nil {
		for _, n := range nodes {
			n.Close()
		}
		return nil, resumed, fmt.Errorf("recording the demo in %s: %w", dir, err)
	}
	return nodes, resumed, nil
}

// CheckDir refuses a dir that is neither new nor empty nor an earlier
// demo's (one with demo.json), before anything is written in it.
func CheckDir(dir string) error {
	if _, err := os.Stat(filepath.Join(dir, StateName)); err == nil {
		return nil
	}
	if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
		return fmt.Errorf("%s is not empty and holds no earlier demo (no %s): give a new directory, or one an earlier demo kept", dir, StateName)
	}
	return nil
}

// writeFileAtomic replaces path with b, mode 0600: a reader (or a crash)
// sees the old file or the new one, never half of it.
func writeFileAtomic(path string, b []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(b)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp, 0o600)
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
	}
	return err
}
