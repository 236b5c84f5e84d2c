//! OpenTelemetry for `serve` and `exec`: with the `otel` feature, spans (one per HTTP request,
//! with the events inside it) go over OTLP/HTTP (protobuf) to the collector named by the
//! standard variables — `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` or `OTEL_EXPORTER_OTLP_ENDPOINT`
//! (+ `/v1/traces`), `OTEL_EXPORTER_OTLP_HEADERS`, `OTEL_SERVICE_NAME` (default the service's
//! own name). Unset: nothing is exported and nothing is started.

/// Whether a collector is configured.
fn endpoint_configured() -> bool {
    [
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
        "OTEL_EXPORTER_OTLP_ENDPOINT",
    ]
    .iter()
    .any(|v| std::env::var(v).is_ok_and(|e| !e.trim().is_empty()))
}

/// Keeps the exporter running; dropping it flushes the spans still buffered.
#[derive(Debug, Default)]
pub(crate) struct Telemetry {
    #[cfg(feature = "otel")]
    provider: Option<opentelemetry_sdk::trace::SdkTracerProvider>,
}

impl Drop for Telemetry {
    fn drop(&mut self) {
        #[cfg(feature = "otel")]
        if let Some(provider) = self.provider.take()
            && let Err(e) = provider.shutdown()
        {
            eprintln!("warning: OpenTelemetry spans not all exported at exit: {e}");
        }
    }
}

/// The OTLP layer for `service`, if a collector is configured.
#[cfg(feature = "otel")]
pub(crate) fn layer<S>(service: &str) -> (Option<impl tracing_subscriber::Layer<S>>, Telemetry)
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    use opentelemetry::trace::TracerProvider as _;
    use opentelemetry_otlp::WithExportConfig as _;

    if !endpoint_configured() {
        return (None, Telemetry::default());
    }
    let exporter = match opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_protocol(opentelemetry_otlp::Protocol::HttpBinary)
        .build()
    {
        Ok(e) => e,
        Err(e) => {
            eprintln!("warning: OpenTelemetry export disabled: {e}");
            return (None, Telemetry::default());
        }
    };
    let name = std::env::var("OTEL_SERVICE_NAME")
        .ok()
        .filter(|n| !n.trim().is_empty())
        .unwrap_or_else(|| service.to_owned());
    let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(
            opentelemetry_sdk::Resource::builder()
                .with_service_name(name)
                .build(),
        )
        .build();
    let tracer = provider.tracer("tradepulse");
    (
        Some(tracing_opentelemetry::layer().with_tracer(tracer)),
        Telemetry {
            provider: Some(provider),
        },
    )
}

/// Without the `otel` feature: a configured collector gets a warning, not silence.
#[cfg(not(feature = "otel"))]
pub(crate) fn layer(_service: &str) -> (Option<tracing_subscriber::layer::Identity>, Telemetry) {
    if endpoint_configured() {
        eprintln!(
            "warning: OTEL_EXPORTER_OTLP_ENDPOINT is set, but this binary was built without the \
             `otel` feature: no spans are exported (cargo build --features otel)"
        );
    }
    (None, Telemetry::default())
}
