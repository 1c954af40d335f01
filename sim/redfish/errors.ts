// Redfish error bodies and Base registry messages (DSP0266 §9.6 "Error responses"), so the simulator
// fails the way a spec-following client expects: {error:{code,message,@Message.ExtendedInfo:[...]}}.

export const BASE = "Base.1.18";

export interface RedfishMessage {
  "@odata.type": "#Message.v1_2_0.Message";
  MessageId: string;
  Message: string;
  MessageArgs: string[];
  MessageSeverity: "OK" | "Warning" | "Critical";
  Severity: "OK" | "Warning" | "Critical";
  Resolution: string;
  RelatedProperties?: string[];
}

export function message(
  id: string,
  text: string,
  args: string[] = [],
  opts: { severity?: "OK" | "Warning" | "Critical"; resolution?: string; related?: string[] } = {},
): RedfishMessage {
  const sev = opts.severity ?? "Warning";
  const m: RedfishMessage = {
    "@odata.type": "#Message.v1_2_0.Message",
    MessageId: `${BASE}.${id}`,
    Message: text,
    MessageArgs: args,
    MessageSeverity: sev,
    Severity: sev,
    Resolution: opts.resolution ?? "None.",
  };
  if (opts.related) m.RelatedProperties = opts.related;
  return m;
}

/** A Critical message with the resolution the registry gives. */
function critical(id: string, text: string, args: string[], resolution: string): RedfishMessage {
  return message(id, text, args, { severity: "Critical", resolution });
}

/** An error the request handler turns into an HTTP status + Redfish error body. */
export class RedfishError extends Error {
  constructor(
    public status: number,
    public info: RedfishMessage[],
    public headers: Record<string, string> = {},
  ) {
    super(info[0]?.Message ?? `HTTP ${status}`);
  }

  body(): unknown {
    return {
      error: {
        code: this.info.length === 1 ? this.info[0].MessageId : `${BASE}.GeneralError`,
        message: this.info.length === 1 ? this.info[0].Message : "A general error has occurred. See ExtendedInfo for more information.",
        "@Message.ExtendedInfo": this.info,
      },
    };
  }
}

const q = (v: unknown) => (typeof v === "string" ? v : JSON.stringify(v));

// The messages the simulator uses, named after their Base registry ids.
export const Msg = {
  propertyValueNotInList: (value: unknown, prop: string, pointer: string) =>
    message("PropertyValueNotInList", `The value '${q(value)}' for the property ${prop} is not in the list of acceptable values.`, [q(value), prop], {
      related: [pointer],
      resolution: "Choose a value from the enumeration list that the implementation can support and resubmit the request if the operation failed.",
    }),
  propertyValueTypeError: (value: unknown, prop: string, pointer: string) =>
    message("PropertyValueTypeError", `The value '${q(value)}' for the property ${prop} is not a type that the property can accept.`, [q(value), prop], {
      related: [pointer],
      resolution: "Correct the value for the property in the request body and resubmit the request if the operation failed.",
    }),
  propertyUnknown: (prop: string, pointer: string) =>
    message("PropertyUnknown", `The property ${prop} is not in the list of valid properties for the resource.`, [prop], {
      related: [pointer],
      resolution: "Remove the unknown property from the request body and resubmit the request if the operation failed.",
    }),
  propertyNotWritable: (prop: string, pointer: string) =>
    message("PropertyNotWritable", `The property ${prop} is a read only property and cannot be assigned a value.`, [prop], {
      related: [pointer],
      resolution: "Remove the property from the request body and resubmit the request if the operation failed.",
    }),
  propertyMissing: (prop: string) =>
    message("PropertyMissing", `The property ${prop} is a required property and must be included in the request.`, [prop], {
      related: [`#/${prop}`],
      resolution: "Ensure that the property is in the request body and has a valid value and resubmit the request if the operation failed.",
    }),
  actionParameterMissing: (action: string, param: string) =>
    message("ActionParameterMissing", `The action ${action} requires the parameter ${param} to be present in the request body.`, [action, param], {
      severity: "Critical",
      related: [`#/${param}`],
      resolution: "Supply the action with the required parameter in the request body when the request is resubmitted.",
    }),
  actionParameterValueNotInList: (value: unknown, param: string, action: string) =>
    message(
      "ActionParameterValueNotInList",
      `The value '${q(value)}' for the parameter ${param} in the action ${action} is not in the list of acceptable values.`,
      [q(value), param, action],
      { related: [`#/${param}`], resolution: "Choose a value from the enumeration list and resubmit the request if the operation failed." },
    ),
  actionParameterValueTypeError: (value: unknown, param: string, action: string) =>
    message(
      "ActionParameterValueTypeError",
      `The value '${q(value)}' for the parameter ${param} in the action ${action} is of a different type than the parameter can accept.`,
      [q(value), param, action],
      { related: [`#/${param}`], resolution: "Correct the value for the parameter in the request body and resubmit the request if the operation failed." },
    ),
  actionParameterUnknown: (action: string, param: string) =>
    message("ActionParameterUnknown", `The action ${action} was submitted with the invalid parameter ${param}.`, [action, param], {
      related: [`#/${param}`],
      resolution: "Correct the invalid parameter and resubmit the request if the operation failed.",
    }),
  malformedJSON: () =>
    critical(
      "MalformedJSON",
      "The request body submitted was malformed JSON and could not be parsed by the receiving service.",
      [],
      "Ensure that the request body is valid JSON and resubmit the request.",
    ),
  resourceMissingAtURI: (uri: string) =>
    critical(
      "ResourceMissingAtURI",
      `The resource at the URI ${uri} was not found.`,
      [uri],
      "Place a valid resource at the URI or correct the URI and resubmit the request.",
    ),
  /** Base 1.8+: the service tried to reach a URI it was given (a virtual media image) and could not. */
  couldNotEstablishConnection: (uri: string, why: string) =>
    critical(
      "CouldNotEstablishConnection",
      `An HTTP(S) connection to the URI '${uri}' could not be established (${why}).`,
      [uri],
      "Ensure that the URI contains a valid and reachable node name, protocol information and other URI components.",
    ),
  operationNotAllowed: (text: string) => critical("OperationNotAllowed", text, [], "Change the state of the resource and resubmit the request."),
  methodNotAllowed: (method: string, uri: string) =>
    critical(
      "OperationNotAllowed",
      `The HTTP method ${method} is not allowed on the resource at ${uri}.`,
      [],
      "Use one of the methods listed in the Allow header.",
    ),
  preconditionFailed: () =>
    critical(
      "PreconditionFailed",
      "The ETag supplied did not match the ETag required to change this resource.",
      [],
      "Try the operation again using the appropriate ETag.",
    ),
  noValidSession: () =>
    critical("NoValidSession", "There is no valid session established with the implementation.", [], "Establish a session before attempting any operations."),
  resourceAtUriUnauthorized: (uri: string) =>
    message(
      "ResourceAtUriUnauthorized",
      `While accessing the resource at ${uri}, the service received an authorization error 'invalid credentials'.`,
      [uri, "invalid credentials"],
      {
        severity: "Critical",
        resolution: "Ensure that the appropriate access is provided for the service in order for it to access the URI.",
      },
    ),
  sessionLimitExceeded: () =>
    message(
      "SessionLimitExceeded",
      "The session establishment failed due to the number of simultaneous sessions exceeding the limit of the implementation.",
      [],
      {
        severity: "Critical",
        resolution: "Reduce the number of other sessions before trying to establish the session or increase the limit of simultaneous sessions, if supported.",
      },
    ),
  internalError: () =>
    critical(
      "InternalError",
      "The request failed due to an internal service error.  The service is still operational.",
      [],
      "Resubmit the request.  If the problem persists, consider resetting the service.",
    ),
  serviceTemporarilyUnavailable: (seconds: number) =>
    critical(
      "ServiceTemporarilyUnavailable",
      `The service is temporarily unavailable.  Retry in ${seconds} seconds.`,
      [String(seconds)],
      "Wait for the indicated retry duration and retry the operation.",
    ),
  success: () => message("Success", "The request completed successfully.", [], { severity: "OK" }),
  created: () => message("Created", "The resource was created successfully.", [], { severity: "OK" }),
  payloadTooLarge: () =>
    critical(
      "PayloadTooLarge",
      "The supplied payload exceeds the maximum size supported by the service.",
      [],
      "Correct the request body and resubmit the request.",
    ),
} as const;
