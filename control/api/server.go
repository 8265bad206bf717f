package api

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"tenbin/control/config"
	"tenbin/control/daemon"
)

// maxBody bounds a request body (a configuration file).
const maxBody = 4 << 20

// Engine is what the API serves; *daemon.Engine is one.
type Engine interface {
	Status() daemon.Status
	Services() []daemon.ServiceView
	Service(name string) (daemon.ServiceView, error)
	Backends(service string) ([]daemon.BackendView, error)
	Stats() daemon.Stats
	Config() (*config.Config, []byte)
	Generation() uint64
	Apply(name string, data []byte) (*daemon.ApplyResult, error)
	Diff(name string, data []byte) ([]string, error)
	SetWeight(service, backend string, weight uint16) (uint64, error)
	Drain(service, backend string) (uint64, error)
	Undrain(service, backend string) (uint64, error)
	Enable(service, backend string) (uint64, error)
	Disable(service, backend string) (uint64, error)
}

// ConfigView is GET /v1/config: the running configuration's text and where it came from.
type ConfigView struct {
	File       string    `json:"file"`
	LoadedAt   time.Time `json:"loaded_at"`
	Generation uint64    `json:"generation"`
	YAML       string    `json:"yaml"`
}

// DiffView is POST /v1/config/diff.
type DiffView struct {
	Changes []string `json:"changes"`
}

// ActionResult is the answer to a backend action.
type ActionResult struct {
	Generation uint64             `json:"generation"`
	Backend    daemon.BackendView `json:"backend"`
}

// WeightRequest is the body of POST /v1/backends/{service}/{backend}/weight.
type WeightRequest struct {
	Weight *int `json:"weight"`
}

// Server serves the API.
type Server struct {
	engine Engine
	log    *slog.Logger
	http   *http.Server
}

// NewServer returns a server for engine.
func NewServer(engine Engine, log *slog.Logger) *Server {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{engine: engine, log: log}
	s.http = &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 5 * time.Second}
	return s
}

// Serve answers on l until Shutdown.
func (s *Server) Serve(l net.Listener) error {
	err := s.http.Serve(l)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// Shutdown stops accepting and waits for requests in flight (up to ctx).
func (s *Server) Shutdown(ctx context.Context) error { return s.http.Shutdown(ctx) }

// Handler is the API's routes.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	allowed := map[string][]string{} // path → methods, in registration order
	var paths []string
	route := func(method, path string, h func(*http.Request) (any, error)) {
		mux.HandleFunc(method+" "+path, func(w http.ResponseWriter, r *http.Request) {
			v, err := h(r)
			if err != nil {
				s.writeError(w, r, err)
				return
			}
			writeJSON(w, http.StatusOK, v)
		})
		if allowed[path] == nil {
			paths = append(paths, path)
		}
		allowed[path] = append(allowed[path], method)
	}
	route("GET", "/v1/status", func(*http.Request) (any, error) { return s.engine.Status(), nil })
	route("GET", "/v1/services", func(*http.Request) (any, error) { return s.engine.Services(), nil })
	route("GET", "/v1/services/{name}", func(r *http.Request) (any, error) { return s.engine.Service(r.PathValue("name")) })
	route("GET", "/v1/backends", func(r *http.Request) (any, error) { return s.engine.Backends(r.URL.Query().Get("service")) })
	route("GET", "/v1/stats", func(*http.Request) (any, error) { return s.engine.Stats(), nil })
	route("GET", "/v1/config", s.getConfig)
	route("POST", "/v1/config", s.applyConfig)
	route("POST", "/v1/config/diff", s.diffConfig)
	route("POST", "/v1/backends/{service}/{backend}/{action}", s.backendAction)
	// Any other method on a known path gets the same JSON error body as everything else.
	for _, path := range paths {
		methods := strings.Join(allowed[path], ", ")
		mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Allow", methods)
			s.writeError(w, r, &Error{Status: http.StatusMethodNotAllowed, Code: CodeMethodNotAllowed,
				Message: r.Method + " " + r.URL.Path + ": allowed " + methods})
		})
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.writeError(w, r, &Error{Status: http.StatusNotFound, Code: CodeNotFound, Message: "no such endpoint: " + r.URL.Path})
	})
	return mux
}

func (s *Server) getConfig(*http.Request) (any, error) {
	cfg, text := s.engine.Config()
	st := s.engine.Status()
	return ConfigView{File: cfg.File, LoadedAt: st.Control.ConfigLoadedAt, Generation: s.engine.Generation(), YAML: string(text)}, nil
}

// configBody reads a YAML body; ?name= names it in error messages (the client sends the
// file name the operator typed).
func configBody(r *http.Request) (string, []byte, error) {
	data, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, maxBody))
	if err != nil {
		return "", nil, &Error{Status: http.StatusBadRequest, Code: CodeBadRequest, Message: "read body: " + err.Error()}
	}
	name := r.URL.Query().Get("name")
	if name == "" {
		name = "request"
	}
	return name, data, nil
}

func (s *Server) applyConfig(r *http.Request) (any, error) {
	name, data, err := configBody(r)
	if err != nil {
		return nil, err
	}
	return s.engine.Apply(name, data)
}

func (s *Server) diffConfig(r *http.Request) (any, error) {
	name, data, err := configBody(r)
	if err != nil {
		return nil, err
	}
	changes, err := s.engine.Diff(name, data)
	if err != nil {
		return nil, err
	}
	return DiffView{Changes: changes}, nil
}

func (s *Server) backendAction(r *http.Request) (any, error) {
	svc, be, action := r.PathValue("service"), r.PathValue("backend"), r.PathValue("action")
	var gen uint64
	var err error
	switch action {
	case "weight":
		w, werr := weightOf(r)
		if werr != nil {
			return nil, werr
		}
		gen, err = s.engine.SetWeight(svc, be, w)
	case "drain":
		gen, err = s.engine.Drain(svc, be)
	case "undrain":
		gen, err = s.engine.Undrain(svc, be)
	case "enable":
		gen, err = s.engine.Enable(svc, be)
	case "disable":
		gen, err = s.engine.Disable(svc, be)
	default:
		return nil, &Error{Status: http.StatusNotFound, Code: CodeNotFound,
			Message: "no such backend action " + strconv.Quote(action) + " (weight, drain, undrain, enable, disable)"}
	}
	if err != nil {
		return nil, err
	}
	res := ActionResult{Generation: gen}
	if bs, err := s.engine.Backends(svc); err == nil {
		for _, b := range bs {
			if b.Name == be {
				res.Backend = b
			}
		}
	}
	return res, nil
}

func weightOf(r *http.Request) (uint16, error) {
	var req WeightRequest
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 4096))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil || req.Weight == nil {
		return 0, &Error{Status: http.StatusBadRequest, Code: CodeBadRequest, Message: `body must be {"weight": N} with N in 0..65535`}
	}
	if *req.Weight < 0 || *req.Weight > 65535 {
		return 0, &Error{Status: http.StatusBadRequest, Code: CodeBadRequest, Message: "weight " + strconv.Itoa(*req.Weight) + " not in 0..65535"}
	}
	return uint16(*req.Weight), nil
}

func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var e *Error
	if !errors.As(err, &e) {
		e = errorFor(err)
	}
	if e.Status >= 500 || e.Status == http.StatusConflict {
		s.log.Warn("api request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	writeJSON(w, e.Status, errorBody{e})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}
