package store

import (
	"context"
	"database/sql"
	"errors"
	"testing"
	"time"
)

func TestScriptsDraftPublishVersions(t *testing.T) { onEngines(t, testScriptsDraftPublishVersions) }

func testScriptsDraftPublishVersions(t *testing.T, e testEngine) {
	ctx := context.Background()
	s := e.open(t)
	c := testConnection("c1")
	if err := s.CreateConnection(ctx, nil, c); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PublishedScripts(ctx, nil, c.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("published before any: %v, want ErrNotFound", err)
	}
	at := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	if err := s.SaveDraft(ctx, nil, c.ID, "out1", "in1", at); err != nil {
		t.Fatal(err)
	}
	publish := func(note string) int {
		t.Helper()
		var v int
		err := s.InTx(ctx, func(tx *sql.Tx) (err error) { v, err = s.PublishDraft(ctx, tx, c.ID, note, at); return err })
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	if v := publish("first"); v != 1 {
		t.Fatalf("first version %d, want 1", v)
	}
	if err := s.SaveDraft(ctx, nil, c.ID, "out2", "in2", at.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.PublishedScripts(ctx, nil, c.ID); got.Version != 1 || got.Outgoing != "out1" {
		t.Fatalf("a saved draft changed what is in force: %+v", got)
	}
	if v := publish("second"); v != 2 {
		t.Fatalf("second version %d, want 2", v)
	}
	got, err := s.PublishedScripts(ctx, nil, c.ID)
	if err != nil || got.Version != 2 || got.Outgoing != "out2" || got.Incoming != "in2" || got.Note != "second" {
		t.Fatalf("in force %+v, %v", got, err)
	}
	vs, err := s.ScriptVersions(ctx, c.ID)
	if err != nil || len(vs) != 2 || vs[0].Version != 2 || vs[1].Version != 1 || vs[1].Note != "first" {
		t.Fatalf("versions %+v, %v", vs, err)
	}
	if old, err := s.Scripts(ctx, nil, c.ID, 1); err != nil || old.Outgoing != "out1" {
		t.Fatalf("version 1 %+v, %v", old, err)
	}
	if err := s.InTx(ctx, func(tx *sql.Tx) error { return s.SetMode(ctx, tx, c.ID, "script") }); err != nil {
		t.Fatal(err)
	}
	if cc, _ := s.Connection(ctx, c.ID); cc.Mode != "script" {
		t.Fatalf("mode %q, want script", cc.Mode)
	}
}
