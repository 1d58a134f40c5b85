// Package deploytest validates the deployment artifacts offline, in the
// quick test loop (`go test ./...`), since no container engine or cluster
// runs in CI: the
// root Dockerfile and .dockerignore, deploy/compose (loaded with compose-go
// and its JSON schema) and deploy/k8s (strictly decoded into the
// k8s.io/api types). Beyond syntax it checks what breaks a deployment at
// run time: every environment variable is one the named binary reads
// (parsed from config/config.go and cmd/), selectors, ports and probes
// agree, images are pinned, secrets are never written down, shutdown
// grace periods cover the processes' own, and Temporal is reached over
// mutual TLS: the compose server requires client certificates, and every
// service or pod that dials it (found in the code) presents the client
// certificate from a mounted secret.
//
// The package has no non-test code; this file only documents it.
package deploytest
