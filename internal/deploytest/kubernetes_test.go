package deploytest

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/dataquarantine/dataquarantine/internal/config"
)

const k8sDir = "deploy/kubernetes"

// k8sObject is the part of a manifest the checks read; Raw keeps the whole
// document for kind-specific decoding.
type k8sObject struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Metadata   struct {
		Name   string            `yaml:"name"`
		Labels map[string]string `yaml:"labels"`
	} `yaml:"metadata"`
	File string    `yaml:"-"`
	Raw  yaml.Node `yaml:"-"`
}

// loadManifests parses every YAML document of deploy/kubernetes, by kind.
func loadManifests(t *testing.T) map[string]k8sObject {
	t.Helper()
	dir := filepath.Join(RepoRoot(t), k8sDir)
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	byKind := map[string]k8sObject{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		require.NoError(t, err)
		dec := yaml.NewDecoder(bytes.NewReader(data))
		for {
			var node yaml.Node
			err := dec.Decode(&node)
			if errors.Is(err, io.EOF) {
				break
			}
			require.NoError(t, err, "%s", f)
			var obj k8sObject
			require.NoError(t, node.Decode(&obj), "%s", f)
			require.NotEmpty(t, obj.Kind, "%s: document without kind", f)
			require.NotEmpty(t, obj.APIVersion, "%s: document without apiVersion", f)
			obj.File, obj.Raw = filepath.Base(f), node
			require.NotContains(t, byKind, obj.Kind, "two %s manifests", obj.Kind)
			byKind[obj.Kind] = obj
		}
	}
	return byKind
}

func decodeSpec[T any](t *testing.T, obj k8sObject) T {
	t.Helper()
	var v T
	require.NoError(t, obj.Raw.Decode(&v), "%s", obj.File)
	return v
}

type statefulSetT struct {
	Spec struct {
		Replicas            int    `yaml:"replicas"`
		ServiceName         string `yaml:"serviceName"`
		PodManagementPolicy string `yaml:"podManagementPolicy"`
		Selector            struct {
			MatchLabels map[string]string `yaml:"matchLabels"`
		} `yaml:"selector"`
		Template struct {
			Metadata struct {
				Labels map[string]string `yaml:"labels"`
			} `yaml:"metadata"`
			Spec struct {
				SecurityContext struct {
					RunAsNonRoot bool `yaml:"runAsNonRoot"`
				} `yaml:"securityContext"`
				Containers []struct {
					Name  string   `yaml:"name"`
					Image string   `yaml:"image"`
					Args  []string `yaml:"args"`
					Ports []struct {
						Name          string `yaml:"name"`
						ContainerPort int    `yaml:"containerPort"`
					} `yaml:"ports"`
					Env []struct {
						Name      string `yaml:"name"`
						Value     string `yaml:"value"`
						ValueFrom *struct {
							FieldRef struct {
								FieldPath string `yaml:"fieldPath"`
							} `yaml:"fieldRef"`
						} `yaml:"valueFrom"`
					} `yaml:"env"`
					EnvFrom []struct {
						SecretRef struct {
							Name string `yaml:"name"`
						} `yaml:"secretRef"`
						ConfigMapRef *struct{} `yaml:"configMapRef"`
					} `yaml:"envFrom"`
					ReadinessProbe probe `yaml:"readinessProbe"`
					LivenessProbe  probe `yaml:"livenessProbe"`
					Resources      struct {
						Requests map[string]string `yaml:"requests"`
						Limits   map[string]string `yaml:"limits"`
					} `yaml:"resources"`
					VolumeMounts []struct {
						Name      string `yaml:"name"`
						MountPath string `yaml:"mountPath"`
					} `yaml:"volumeMounts"`
				} `yaml:"containers"`
				Volumes []struct {
					Name      string `yaml:"name"`
					ConfigMap *struct {
						Name string `yaml:"name"`
					} `yaml:"configMap"`
				} `yaml:"volumes"`
			} `yaml:"spec"`
		} `yaml:"template"`
	} `yaml:"spec"`
}

type probe struct {
	HTTPGet struct {
		Path string `yaml:"path"`
		Port string `yaml:"port"`
	} `yaml:"httpGet"`
}

func TestKubernetesManifestKinds(t *testing.T) {
	objs := loadManifests(t)
	for _, tc := range []struct{ kind, apiVersion, file string }{
		{"StatefulSet", "apps/v1", "statefulset.yaml"},
		{"Service", "v1", "service.yaml"},
		{"ConfigMap", "v1", "configmap.yaml"},
		{"Secret", "v1", "secret.example.yaml"},
		{"PodDisruptionBudget", "policy/v1", "pdb.yaml"},
		{"ScaledObject", "keda.sh/v1alpha1", "keda-scaledobject.yaml"},
		{"HorizontalPodAutoscaler", "autoscaling/v2", "hpa.yaml"},
		{"ServiceMonitor", "monitoring.coreos.com/v1", "servicemonitor.yaml"},
		{"Kustomization", "kustomize.config.k8s.io/v1beta1", "kustomization.yaml"},
	} {
		t.Run(tc.kind, func(t *testing.T) {
			obj, ok := objs[tc.kind]
			require.True(t, ok, "no %s manifest", tc.kind)
			require.Equal(t, tc.apiVersion, obj.APIVersion)
			require.Equal(t, tc.file, obj.File)
			if tc.kind != "Kustomization" {
				require.Equal(t, "dataquarantine", obj.Metadata.Name)
			}
		})
	}

	// The kustomization lists the files that exist, and one scaler only.
	kust := decodeSpec[struct {
		Resources []string `yaml:"resources"`
	}](t, objs["Kustomization"])
	for _, r := range kust.Resources {
		require.FileExists(t, filepath.Join(RepoRoot(t), k8sDir, r))
	}
	require.Contains(t, kust.Resources, "keda-scaledobject.yaml")
	require.NotContains(t, kust.Resources, "hpa.yaml", "KEDA and the HPA would fight over replicas")
}

// k8sGateway is the StatefulSet's container, its config and environment
// resolved as its first pod would see them.
type k8sGateway struct {
	dep   statefulSetT
	cfg   config.Config
	ports map[string]int
}

func loadK8sGateway(t *testing.T, objs map[string]k8sObject) k8sGateway {
	t.Helper()
	dep := decodeSpec[statefulSetT](t, objs["StatefulSet"])
	require.Len(t, dep.Spec.Template.Spec.Containers, 1)
	c := dep.Spec.Template.Spec.Containers[0]

	// The environment: the container's env plus the Secret's keys; the
	// pod's name is its StatefulSet's name and ordinal.
	env := map[string]string{}
	for _, e := range c.Env {
		switch {
		case e.ValueFrom == nil:
			env[e.Name] = e.Value
		case e.ValueFrom.FieldRef.FieldPath == "metadata.name":
			env[e.Name] = objs["StatefulSet"].Metadata.Name + "-0"
		default:
			t.Fatalf("env %s: a value from %+v, which this test cannot resolve", e.Name, *e.ValueFrom)
		}
	}
	secret := decodeSpec[struct {
		StringData map[string]string `yaml:"stringData"`
	}](t, objs["Secret"])
	require.Len(t, c.EnvFrom, 1)
	require.Equal(t, objs["Secret"].Metadata.Name, c.EnvFrom[0].SecretRef.Name)
	for k, v := range secret.StringData {
		env[k] = v
	}
	checkDQEnv(t, env)

	// The ConfigMap's file, mounted where --config points.
	args := checkServeArgs(t, c.Args)
	cm := decodeSpec[struct {
		Data map[string]string `yaml:"data"`
	}](t, objs["ConfigMap"])
	var mountDir string
	for _, vm := range c.VolumeMounts {
		for _, v := range dep.Spec.Template.Spec.Volumes {
			if v.Name == vm.Name && v.ConfigMap != nil {
				require.Equal(t, objs["ConfigMap"].Metadata.Name, v.ConfigMap.Name)
				mountDir = vm.MountPath
			}
		}
	}
	require.NotEmpty(t, mountDir, "the ConfigMap is not mounted")
	require.Equal(t, mountDir, filepath.Dir(args["config"]), "--config is not in the ConfigMap's mount")
	file := filepath.Base(args["config"])
	require.Contains(t, cm.Data, file, "the ConfigMap has no %s", file)

	path := filepath.Join(t.TempDir(), file)
	require.NoError(t, os.WriteFile(path, []byte(cm.Data[file]), 0o600))
	cfg, err := config.Load(path, environ(env))
	require.NoError(t, err, "the ConfigMap's config with the pod's environment")
	require.NoError(t, cfg.Validate())

	ports := map[string]int{}
	for _, p := range c.Ports {
		ports[p.Name] = p.ContainerPort
	}
	return k8sGateway{dep: dep, cfg: cfg, ports: ports}
}

func TestKubernetesStatefulSet(t *testing.T) {
	objs := loadManifests(t)
	gw := loadK8sGateway(t, objs)
	spec := gw.dep.Spec.Template.Spec
	c := spec.Containers[0]

	require.True(t, spec.SecurityContext.RunAsNonRoot)
	require.NotEmpty(t, c.Resources.Requests["cpu"])
	require.NotEmpty(t, c.Resources.Requests["memory"])
	require.NotEmpty(t, c.Resources.Limits["memory"])
	require.Equal(t, gw.dep.Spec.Selector.MatchLabels, subset(gw.dep.Spec.Template.Metadata.Labels, gw.dep.Spec.Selector.MatchLabels))

	// The HTTP port the gateway listens on is the named port the probes,
	// the Service and the ServiceMonitor use.
	_, port, err := net.SplitHostPort(gw.cfg.HTTP.Listen)
	require.NoError(t, err)
	require.Equal(t, port, strconv.Itoa(gw.ports["http"]), "http.listen vs containerPort http")
	host, _, _ := net.SplitHostPort(gw.cfg.HTTP.Listen)
	require.NotContains(t, []string{"127.0.0.1", "localhost", "::1"}, host, "a loopback listener is unreachable to probes")

	for _, tc := range []struct {
		name string
		p    probe
		path string
	}{
		{"readiness", c.ReadinessProbe, "/readyz"},
		{"liveness", c.LivenessProbe, "/healthz"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.path, tc.p.HTTPGet.Path)
			require.Contains(t, gw.ports, tc.p.HTTPGet.Port, "probe port must be a named container port")
		})
	}
	require.NotEmpty(t, gw.cfg.Kafka.Brokers, "a cluster deployment uses external Kafka")

	// Static group membership under the pod's stable name, so a restarted
	// pod takes its partitions back at once (docs/operations.md).
	require.Equal(t, "dataquarantine-0", gw.cfg.Kafka.InstanceID, "DQ_KAFKA_INSTANCE_ID from metadata.name")
	require.Equal(t, objs["Service"].Metadata.Name, gw.dep.Spec.ServiceName)
	require.Equal(t, "Parallel", gw.dep.Spec.PodManagementPolicy, "pods need no ordered start")
	require.NotEqual(t, "sqlite", mustScheme(t, gw.cfg.MetadataURL()), "replicas must share one metadata store")
	require.NotEqual(t, "file", mustScheme(t, gw.cfg.PayloadsURL()), "replicas must share one payload store")
}

func mustScheme(t *testing.T, u string) string {
	t.Helper()
	s, err := config.ParseStoreURL(u)
	require.NoError(t, err)
	return s.Scheme
}

// subset returns the entries of m whose keys are in keys.
func subset(m, keys map[string]string) map[string]string {
	out := map[string]string{}
	for k := range keys {
		if v, ok := m[k]; ok {
			out[k] = v
		}
	}
	return out
}

func TestKubernetesSelectorsAndScaling(t *testing.T) {
	objs := loadManifests(t)
	gw := loadK8sGateway(t, objs)
	podLabels := gw.dep.Spec.Template.Metadata.Labels

	svc := decodeSpec[struct {
		Spec struct {
			Selector map[string]string `yaml:"selector"`
			Ports    []struct {
				Name       string `yaml:"name"`
				Port       int    `yaml:"port"`
				TargetPort string `yaml:"targetPort"`
			} `yaml:"ports"`
		} `yaml:"spec"`
	}](t, objs["Service"])
	require.Equal(t, svc.Spec.Selector, subset(podLabels, svc.Spec.Selector), "Service selects the gateway pods")
	require.Len(t, svc.Spec.Ports, 1)
	require.Contains(t, gw.ports, svc.Spec.Ports[0].TargetPort)

	pdb := decodeSpec[struct {
		Spec struct {
			MinAvailable int `yaml:"minAvailable"`
			Selector     struct {
				MatchLabels map[string]string `yaml:"matchLabels"`
			} `yaml:"selector"`
		} `yaml:"spec"`
	}](t, objs["PodDisruptionBudget"])
	require.Equal(t, pdb.Spec.Selector.MatchLabels, subset(podLabels, pdb.Spec.Selector.MatchLabels))
	require.Positive(t, pdb.Spec.MinAvailable)

	sm := decodeSpec[struct {
		Spec struct {
			Selector struct {
				MatchLabels map[string]string `yaml:"matchLabels"`
			} `yaml:"selector"`
			Endpoints []struct {
				Port string `yaml:"port"`
				Path string `yaml:"path"`
			} `yaml:"endpoints"`
		} `yaml:"spec"`
	}](t, objs["ServiceMonitor"])
	require.Equal(t, sm.Spec.Selector.MatchLabels, subset(objs["Service"].Metadata.Labels, sm.Spec.Selector.MatchLabels), "ServiceMonitor selects the Service")
	require.Len(t, sm.Spec.Endpoints, 1)
	require.Equal(t, svc.Spec.Ports[0].Name, sm.Spec.Endpoints[0].Port)
	require.Equal(t, "/metrics", sm.Spec.Endpoints[0].Path)
	require.Equal(t, "dataquarantine", objs["Service"].Metadata.Name, `the job label, as the alerts' up{job="dataquarantine"}`)

	so := decodeSpec[struct {
		Spec struct {
			ScaleTargetRef struct {
				APIVersion string `yaml:"apiVersion"`
				Kind       string `yaml:"kind"`
				Name       string `yaml:"name"`
			} `yaml:"scaleTargetRef"`
			MinReplicaCount int `yaml:"minReplicaCount"`
			MaxReplicaCount int `yaml:"maxReplicaCount"`
			Triggers        []struct {
				Type     string            `yaml:"type"`
				Metadata map[string]string `yaml:"metadata"`
			} `yaml:"triggers"`
		} `yaml:"spec"`
	}](t, objs["ScaledObject"])
	require.Equal(t, objs["StatefulSet"].Metadata.Name, so.Spec.ScaleTargetRef.Name)
	require.Equal(t, "StatefulSet", so.Spec.ScaleTargetRef.Kind, "KEDA's default target kind is Deployment")
	require.Equal(t, "apps/v1", so.Spec.ScaleTargetRef.APIVersion)
	require.Len(t, so.Spec.Triggers, 1)
	tr := so.Spec.Triggers[0]
	require.Equal(t, "kafka", tr.Type)
	require.Equal(t, gw.cfg.Kafka.GroupID, tr.Metadata["consumerGroup"])
	require.Equal(t, gw.cfg.Topics.Inputs[0].Topic, tr.Metadata["topic"])
	require.Equal(t, gw.cfg.Kafka.Brokers[0], tr.Metadata["bootstrapServers"])
	require.Equal(t, "10000", tr.Metadata["lagThreshold"], "the design notes' lag threshold")

	hpa := decodeSpec[struct {
		Spec struct {
			ScaleTargetRef struct {
				Kind, Name string
			} `yaml:"scaleTargetRef"`
			MinReplicas int `yaml:"minReplicas"`
			MaxReplicas int `yaml:"maxReplicas"`
		} `yaml:"spec"`
	}](t, objs["HorizontalPodAutoscaler"])
	require.Equal(t, "StatefulSet", hpa.Spec.ScaleTargetRef.Kind)
	require.Equal(t, objs["StatefulSet"].Metadata.Name, hpa.Spec.ScaleTargetRef.Name)

	// Replicas beyond the input partitions own nothing: both scalers stop
	// there, and the PDB leaves at least one pod drainable.
	partitions := int(gw.cfg.Kafka.Partitions)
	for name, r := range map[string][2]int{
		"keda": {so.Spec.MinReplicaCount, so.Spec.MaxReplicaCount},
		"hpa":  {hpa.Spec.MinReplicas, hpa.Spec.MaxReplicas},
	} {
		require.LessOrEqual(t, r[1], partitions, "%s max replicas vs %d partitions", name, partitions)
		require.Less(t, pdb.Spec.MinAvailable, r[0], "%s: the PDB would block every drain at min replicas", name)
	}
	names := keysOf(objs)
	sort.Strings(names)
	t.Logf("manifests: %v", names)
}
