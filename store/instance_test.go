package store

import (
	"errors"
	"maps"
	"testing"
	"time"
)

func TestInstance(t *testing.T) { onEngines(t, testInstance) }

func testInstance(t *testing.T, e testEngine) {
	s := e.open(t)
	ctx := t.Context()

	if _, err := s.Instance(ctx); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Instance before create: err = %v, want ErrNotFound", err)
	}
	created := time.Date(2025, 3, 4, 5, 6, 7, 891, time.UTC)
	in := Instance{
		ID: "inst-1", Name: "Alpha", URL: "http://127.0.0.1:7001", Tracker: "asana",
		Settings:  map[string]string{"asana_url": "http://127.0.0.1:7100", "workspace": "123"},
		CreatedAt: created,
	}
	if err := s.CreateInstance(ctx, in, []byte("hash-1")); err != nil {
		t.Fatalf("CreateInstance: %v", err)
	}
	got, err := s.Instance(ctx)
	if err != nil {
		t.Fatalf("Instance: %v", err)
	}
	if got.ID != in.ID || got.Name != in.Name || got.URL != in.URL || got.Tracker != in.Tracker ||
		!maps.Equal(got.Settings, in.Settings) || !got.CreatedAt.Equal(created) {
		t.Errorf("Instance = %+v, want %+v", got, in)
	}

	err = s.CreateInstance(ctx, Instance{ID: "inst-2", Tracker: "asana"}, []byte("hash-2"))
	if !errors.Is(err, ErrExists) {
		t.Errorf("second CreateInstance: err = %v, want ErrExists", err)
	}
	// The failed create must not have slipped its token in.
	if ok, err := s.AdminTokenValid(ctx, []byte("hash-2")); err != nil || ok {
		t.Errorf("token of refused instance valid = %v, %v; want false", ok, err)
	}

	in.Name, in.URL, in.Settings = "Alpha 2", "https://alpha.example", nil
	in.ID, in.Tracker = "ignored", "jira"
	if err := s.UpdateInstance(ctx, in); err != nil {
		t.Fatalf("UpdateInstance: %v", err)
	}
	got, err = s.Instance(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != "Alpha 2" || got.URL != "https://alpha.example" || len(got.Settings) != 0 ||
		got.ID != "inst-1" || got.Tracker != "asana" {
		t.Errorf("after update Instance = %+v", got)
	}
}

func TestUpdateInstanceBeforeCreate(t *testing.T) { onEngines(t, testUpdateInstanceBeforeCreate) }

func testUpdateInstanceBeforeCreate(t *testing.T, e testEngine) {
	s := e.open(t)
	if err := s.UpdateInstance(t.Context(), Instance{Name: "x"}); !errors.Is(err, ErrNotFound) {
		t.Errorf("UpdateInstance: err = %v, want ErrNotFound", err)
	}
}

func TestAdminToken(t *testing.T) { onEngines(t, testAdminToken) }

func testAdminToken(t *testing.T, e testEngine) {
	s := e.open(t)
	ctx := t.Context()
	if err := s.CreateInstance(ctx, Instance{ID: "i", Tracker: "asana"}, []byte("old")); err != nil {
		t.Fatal(err)
	}
	check := func(hash string, want bool) {
		t.Helper()
		ok, err := s.AdminTokenValid(ctx, []byte(hash))
		if err != nil {
			t.Fatalf("AdminTokenValid(%q): %v", hash, err)
		}
		if ok != want {
			t.Errorf("AdminTokenValid(%q) = %v, want %v", hash, ok, want)
		}
	}
	check("old", true)
	check("ol", false)
	check("", false)

	if err := s.ReplaceAdminToken(ctx, []byte("new")); err != nil {
		t.Fatalf("ReplaceAdminToken: %v", err)
	}
	check("new", true)
	check("old", false)
	if err := s.ReplaceAdminToken(ctx, nil); err == nil {
		t.Error("ReplaceAdminToken(nil) succeeded; want an error")
	}
	check("new", true)
}
