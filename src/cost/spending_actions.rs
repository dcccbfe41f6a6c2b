//! The catalogue of IAM actions that spend Bedrock money: each starts or creates work that AWS
//! bills (inference, retrieval, guardrail and data-automation calls, jobs, provisioned capacity,
//! deployments). A spend stop denies exactly these; the budget action's deny policy (IAM and
//! SCP) is rendered from this list, and so will be any other deny that stops Bedrock spend
//! (a per-principal limit). Nothing else in the tool lists them.
//!
//! Source: the Service Authorization Reference pages for Amazon Bedrock (`bedrock`), Amazon
//! Bedrock Powered by AWS Mantle (`bedrock-mantle`) and Amazon Bedrock AgentCore
//! (`bedrock-agentcore`), as of [`REFERENCE_DATE`]; the pages' full action lists are recorded in
//! `tests/fixtures/service-authorization/bedrock-actions.json`, and a test checks that every
//! action here exists there and that every action there that starts work is classified here,
//! either in [`SPENDING`] or, with the reason, in [`NOT_SPENDING`].
//!
//! Some API operations are not IAM actions of their own (their API references say which action
//! authorizes them): Converse and StartAsyncInvoke are authorized as `bedrock:InvokeModel`,
//! ConverseStream as `bedrock:InvokeModelWithResponseStream`, InvokeModelWithBidirectionalStream
//! as `bedrock:InvokeModel` ("This operation requires permission for the bedrock:InvokeModel
//! action"), RetrieveAndGenerateStream as `bedrock:RetrieveAndGenerate`. Earlier releases denied
//! `bedrock:InvokeModelWithBidirectionalStream`, which the reference does not list; it is gone.

use super::spend::Definition;

/// The date of the Service Authorization Reference this catalogue was taken from.
pub const REFERENCE_DATE: &str = "2026-08-22";

/// The reference pages, by service prefix.
pub const REFERENCES: &[(&str, &str)] = &[
    (
        "bedrock",
        "https://docs.aws.amazon.com/service-authorization/latest/reference/list_bedrock.html",
    ),
    (
        "bedrock-mantle",
        "https://docs.aws.amazon.com/service-authorization/latest/reference/list_bedrock-mantle.html",
    ),
    (
        "bedrock-agentcore",
        "https://docs.aws.amazon.com/service-authorization/latest/reference/list_bedrock-agentcore.html",
    ),
];

/// The service an action belongs to, which decides whether a spend stop covers it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    /// `bedrock`: the runtime, agents, flows, knowledge bases, jobs.
    Bedrock,
    /// `bedrock-mantle`: the OpenAI- and Anthropic-compatible endpoint.
    Mantle,
    /// `bedrock-agentcore`: billed as "Amazon Bedrock AgentCore", counted as Bedrock spend only
    /// with `[spend] include_agentcore` (the default).
    AgentCore,
}

impl Service {
    pub fn prefix(self) -> &'static str {
        match self {
            Service::Bedrock => "bedrock",
            Service::Mantle => "bedrock-mantle",
            Service::AgentCore => "bedrock-agentcore",
        }
    }
}

/// One action that spends, and what it bills.
#[derive(Debug, Clone, Copy)]
pub struct SpendingAction {
    pub service: Service,
    pub action: &'static str,
    pub bills: &'static str,
}

const fn b(action: &'static str, bills: &'static str) -> SpendingAction {
    SpendingAction {
        service: Service::Bedrock,
        action,
        bills,
    }
}

const fn m(action: &'static str, bills: &'static str) -> SpendingAction {
    SpendingAction {
        service: Service::Mantle,
        action,
        bills,
    }
}

const fn a(action: &'static str, bills: &'static str) -> SpendingAction {
    SpendingAction {
        service: Service::AgentCore,
        action,
        bills,
    }
}

/// Every action that starts or creates billed work, from the reference of [`REFERENCE_DATE`].
/// Where the reference or the pricing page does not say whether a call is billed and the call
/// runs a model or compute for the caller, it is here: a stop that also blocks a free helper
/// costs little, one that misses a billed call is walked around.
pub const SPENDING: &[SpendingAction] = &[
    // Inference on bedrock-runtime (also authorizes Converse, ConverseStream, StartAsyncInvoke
    // and InvokeModelWithBidirectionalStream).
    b("InvokeModel", "model inference (tokens, images, seconds)"),
    b("InvokeModelWithResponseStream", "streamed model inference"),
    b("InvokeTool", "a Bedrock tool run as inference"),
    // Bedrock API keys: bearer-token calls, denied outright during a stop.
    b(
        "CallWithBearerToken",
        "any call made with a Bedrock API key",
    ),
    // Guardrails and Automated Reasoning.
    b("ApplyGuardrail", "guardrail policy evaluation (text units)"),
    b("InvokeGuardrailChecks", "guardrail checks"),
    b(
        "InvokeAutomatedReasoningPolicy",
        "Automated Reasoning checks",
    ),
    b(
        "StartAutomatedReasoningPolicyBuildWorkflow",
        "building an Automated Reasoning policy from documents",
    ),
    b(
        "StartAutomatedReasoningPolicyTestWorkflow",
        "testing an Automated Reasoning policy",
    ),
    // Agents, flows, prompts.
    b("InvokeAgent", "the agent's model and tool calls"),
    b(
        "InvokeInlineAgent",
        "the inline agent's model and tool calls",
    ),
    b("InvokeFlow", "the flow's model and retrieval nodes"),
    b("StartFlowExecution", "an asynchronous flow execution"),
    b("OptimizePrompt", "prompt optimization (tokens)"),
    b(
        "CreateAdvancedPromptOptimizationJob",
        "a prompt optimization job",
    ),
    b("InvokeBuilder", "the conversational builder's model calls"),
    // Knowledge bases.
    b("Retrieve", "the query's embedding and the vector search"),
    b("RetrieveAndGenerate", "retrieval plus generation"),
    b("AgenticRetrieveStream", "agentic retrieval (model calls)"),
    b("GenerateQuery", "natural language to SQL (model calls)"),
    b("Rerank", "reranking (queries)"),
    b("StartIngestionJob", "embedding the data source's documents"),
    b("IngestKnowledgeBaseDocuments", "embedding the documents"),
    // Data Automation.
    b(
        "InvokeDataAutomation",
        "synchronous data automation (pages, minutes)",
    ),
    b("InvokeDataAutomationAsync", "a data automation job"),
    b(
        "InvokeDataAutomationLibraryIngestionJob",
        "a data automation library ingestion job",
    ),
    b(
        "InvokeBlueprintOptimizationAsync",
        "a blueprint optimization job (model calls)",
    ),
    b(
        "InvokeBlueprintRecommendationAsync",
        "blueprint recommendations (model calls)",
    ),
    b(
        "DetectGeneratedContent",
        "watermark detection run for the caller",
    ),
    // Jobs, capacity, model hosting.
    b("CreateModelInvocationJob", "batch inference"),
    b(
        "CreateEvaluationJob",
        "a model evaluation job (judge and model tokens)",
    ),
    b("CreateModelEvaluationJob", "a model evaluation job"),
    b(
        "CreateModelCustomizationJob",
        "fine-tuning or distillation (training tokens, storage)",
    ),
    b(
        "CreateProvisionedModelThroughput",
        "provisioned throughput (hourly, committed)",
    ),
    b(
        "CreateCustomModelDeployment",
        "an on-demand deployment of a custom model",
    ),
    b(
        "CreateMarketplaceModelEndpoint",
        "a Marketplace model endpoint (instances, hourly)",
    ),
    b(
        "CreateModelImportJob",
        "an imported model (storage, inference copies)",
    ),
    b("CreateCustomModel", "a custom model (monthly storage)"),
    b(
        "CreateModelCopyJob",
        "a copy of a custom model in another region (storage)",
    ),
    // The Mantle endpoint.
    m(
        "CreateInference",
        "every Responses, Chat Completions and Messages call",
    ),
    m("CallWithBearerToken", "any call made with a bearer token"),
    m("CreateFineTuningJob", "a fine-tuning job"),
    m("CreateReservation", "a capacity reservation (committed)"),
    m("CreateCustomizedModel", "an imported customized model"),
    // AgentCore.
    a("InvokeAgentRuntime", "the runtime's compute"),
    a("InvokeAgentRuntimeForUser", "the runtime's compute"),
    a(
        "InvokeAgentRuntimeWithWebSocketStream",
        "the runtime's compute",
    ),
    a(
        "InvokeAgentRuntimeWithWebSocketStreamForUser",
        "the runtime's compute",
    ),
    a("InvokeAgentRuntimeCommand", "the runtime's compute"),
    a("InvokeAgentRuntimeCommandShell", "the runtime's compute"),
    a("InvokeHarness", "the harness's agent run"),
    a("InvokeGateway", "gateway invocations"),
    a("InvokeWebSearch", "web search invocations"),
    a(
        "StartCodeInterpreterSession",
        "a code interpreter session's compute",
    ),
    a("InvokeCodeInterpreter", "code interpreter compute"),
    a("StartBrowserSession", "a browser session's compute"),
    a("CreateEvent", "short-term memory events"),
    a("RetrieveMemoryRecords", "long-term memory retrievals"),
    a("StartMemoryExtractionJob", "long-term memory extraction"),
    a("Evaluate", "an evaluation (model calls)"),
    a("StartBatchEvaluation", "a batch evaluation"),
    a(
        "StartPolicyGeneration",
        "AI policy generation (model calls)",
    ),
    a("StartRecommendation", "a recommendation (model calls)"),
];

/// Actions of the reference that look like they start work but bill nothing themselves, and
/// why. Kept so that the test can tell an action considered from one never seen.
pub const NOT_SPENDING: &[(&str, &str)] = &[
    (
        "bedrock:CountTokens",
        "counts tokens without inference; not billed",
    ),
    (
        "bedrock:RenderPrompt",
        "fills a prompt template; no model runs",
    ),
    (
        "bedrock-agentcore:ConnectBrowserAutomationStream",
        "connects to a session StartBrowserSession started (denied)",
    ),
    (
        "bedrock-agentcore:ConnectBrowserLiveViewStream",
        "connects to a session StartBrowserSession started (denied)",
    ),
    (
        "bedrock-agentcore:CreateAgentRuntimeEndpoint",
        "an endpoint bills nothing until invoked (InvokeAgentRuntime*, denied)",
    ),
    (
        "bedrock-agentcore:CreateHarnessEndpoint",
        "an endpoint bills nothing until invoked (InvokeHarness, denied)",
    ),
    (
        "bedrock-agentcore:InvokeRegistryMcp",
        "reads a registry (access level Read); no compute for the caller",
    ),
    (
        "bedrock-agentcore:ProcessPayment",
        "pays a third party through the agent's payment connector: not on the AWS bill, so not what a Bedrock budget counts",
    ),
];

/// The actions a spend stop denies under `definition`, as `prefix:Action`, in catalogue order.
/// AgentCore's actions are left out when the spend definition leaves AgentCore out
/// (`[spend] include_agentcore = false`): the budget then does not count AgentCore, so crossing
/// it says nothing about AgentCore, and a stop for model spend should not stop agents that the
/// user has told us to treat as another service. Their models are still stopped: a runtime
/// that calls Bedrock with a denied principal's credentials is denied `bedrock:InvokeModel`.
pub fn denied(definition: &Definition) -> Vec<String> {
    SPENDING
        .iter()
        .filter(|s| s.service != Service::AgentCore || definition.include_agentcore)
        .map(|s| format!("{}:{}", s.service.prefix(), s.action))
        .collect()
}

/// [`denied`] for one service, in catalogue order.
pub fn denied_in(definition: &Definition, service: Service) -> Vec<String> {
    let prefix = format!("{}:", service.prefix());
    denied(definition)
        .into_iter()
        .filter(|a| a.starts_with(&prefix))
        .collect()
}

/// The inference actions among [`SPENDING`]: what a per-principal limit denies (`crate::limits`),
/// so that a blocked person loses model calls (runtime, Converse, which `InvokeModel`
/// authorizes, and the Mantle endpoint), and calls made with a Bedrock API key, and nothing
/// else of Bedrock.
const INFERENCE: &[(Service, &str)] = &[
    (Service::Bedrock, "InvokeModel"),
    (Service::Bedrock, "InvokeModelWithResponseStream"),
    (Service::Bedrock, "CallWithBearerToken"),
    (Service::Mantle, "CreateInference"),
    (Service::Mantle, "CallWithBearerToken"),
];

/// [`INFERENCE`] as `prefix:Action`, taken from the catalogue (an action the catalogue drops
/// drops out here too).
pub fn inference() -> Vec<String> {
    SPENDING
        .iter()
        .filter(|s| INFERENCE.contains(&(s.service, s.action)))
        .map(|s| format!("{}:{}", s.service.prefix(), s.action))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn every_inference_action_is_in_the_catalogue() {
        assert_eq!(inference().len(), INFERENCE.len());
    }

    /// The reference's action lists (see the module comment).
    fn reference() -> serde_json::Value {
        serde_json::from_str(include_str!(
            "../../tests/fixtures/service-authorization/bedrock-actions.json"
        ))
        .expect("fixture is JSON")
    }

    fn reference_actions(reference: &serde_json::Value) -> BTreeSet<String> {
        let mut all = BTreeSet::new();
        for (prefix, _) in REFERENCES {
            for a in reference["services"][prefix]["actions"]
                .as_array()
                .expect("actions")
            {
                all.insert(format!("{prefix}:{}", a["action"].as_str().expect("name")));
            }
        }
        all
    }

    /// Actions whose names say they run or start something (a call that does work, a job, a
    /// deployment, capacity): each must be classified, as spending or, with a reason, not.
    fn starts_work(action: &str) -> bool {
        const VERBS: &[&str] = &[
            "Invoke", "Start", "Apply", "Retrieve", "Optimize", "Rerank", "Generate", "Evaluate",
            "Ingest", "Call", "Process", "Agentic", "Detect", "Count", "Render", "Connect",
            "Converse",
        ];
        const CREATED: &[&str] = &[
            "Job",
            "Throughput",
            "Deployment",
            "Endpoint",
            "Inference",
            "Reservation",
            "Model",
            "Event",
        ];
        VERBS.iter().any(|v| action.starts_with(v))
            || (action.starts_with("Create") && CREATED.iter().any(|s| action.ends_with(s)))
    }

    #[test]
    fn the_catalogue_matches_the_service_authorization_reference() {
        let reference = reference();
        assert_eq!(reference["retrieved"], REFERENCE_DATE);
        for (prefix, url) in REFERENCES {
            assert_eq!(reference["services"][prefix]["reference"], *url, "{prefix}");
        }
        let known = reference_actions(&reference);
        assert!(known.len() > 500, "{} actions", known.len());
        let all = denied(&Definition::default());
        for action in all
            .iter()
            .map(String::as_str)
            .chain(NOT_SPENDING.iter().map(|(a, _)| *a))
        {
            assert!(
                known.contains(action),
                "{action} is not an action of the reference of {REFERENCE_DATE}"
            );
        }
        let mut unclassified = Vec::new();
        for action in &known {
            let name = action.split_once(':').map(|(_, n)| n).unwrap_or(action);
            if starts_work(name)
                && !all.contains(action)
                && !NOT_SPENDING.iter().any(|(a, _)| a == action)
            {
                unclassified.push(action.clone());
            }
        }
        assert!(
            unclassified.is_empty(),
            "actions of the reference that start work, neither in SPENDING nor NOT_SPENDING: {unclassified:?}"
        );
        // The reviewed list of spending actions taken from the reference is the catalogue.
        let listed: serde_json::Value = serde_json::from_str(include_str!(
            "../../tests/fixtures/service-authorization/spending-actions.json"
        ))
        .expect("fixture is JSON");
        assert_eq!(listed["retrieved"], REFERENCE_DATE);
        let listed: BTreeSet<&str> = listed["spending"]
            .as_array()
            .expect("list")
            .iter()
            .filter_map(|a| a.as_str())
            .collect();
        assert_eq!(
            listed,
            all.iter().map(String::as_str).collect::<BTreeSet<_>>()
        );
        // The list, by name.
        for needed in [
            "bedrock:StartFlowExecution",
            "bedrock:Retrieve",
            "bedrock:ApplyGuardrail",
            "bedrock:InvokeDataAutomation",
            "bedrock:InvokeDataAutomationAsync",
            "bedrock:OptimizePrompt",
            "bedrock:InvokeTool",
            "bedrock:CallWithBearerToken",
            "bedrock:CreateEvaluationJob",
            "bedrock:CreateModelCustomizationJob",
            "bedrock:CreateProvisionedModelThroughput",
            "bedrock:CreateCustomModelDeployment",
            "bedrock:CreateMarketplaceModelEndpoint",
            "bedrock:CreateModelImportJob",
            "bedrock-mantle:CreateCustomizedModel",
            "bedrock-agentcore:InvokeAgentRuntime",
        ] {
            assert!(all.iter().any(|a| a == needed), "{needed}");
        }
    }

    #[test]
    fn the_catalogue_has_no_duplicates_and_agentcore_follows_the_spend_definition() {
        let all = denied(&Definition::default());
        let unique: BTreeSet<&String> = all.iter().collect();
        assert_eq!(unique.len(), all.len());
        assert!(
            all.iter()
                .any(|a| a == "bedrock-agentcore:InvokeAgentRuntime")
        );
        let models_only = Definition {
            include_agentcore: false,
            ..Definition::default()
        };
        let without = denied(&models_only);
        assert!(without.iter().all(|a| !a.starts_with("bedrock-agentcore:")));
        assert!(without.iter().any(|a| a == "bedrock:InvokeModel"));
        assert!(
            without
                .iter()
                .any(|a| a == "bedrock-mantle:CreateInference")
        );
    }
}
