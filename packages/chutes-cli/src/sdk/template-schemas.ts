// JSON Schemas of the Python template models (generated data, not code).
// Source: chutesai/chutes@5cb5079 chutes/chute/template/{vllm,sglang,embedding}.py, MIT License,
// Copyright (c) 2024 Jon Durbin. Produced with pydantic 2.13 through the SDK's SchemaExtractor
// (get_minimal_schema for inputs; the return-hint rule for outputs), so the deploy JSON of template chutes carries
// the same input_schema / output_schema values as the Python SDK.

/** Template model schemas, by template then `inputs` / `outputs` and model name. */
export const TEMPLATE_SCHEMAS = {
  vllm: {
    inputs: {
      ChatCompletionRequest: {
        type: 'object',
        properties: {
          input_args: {
            $ref: '#/definitions/ChatCompletionRequest',
          },
        },
        required: ['input_args'],
        definitions: {
          ChatCompletionRequest: {
            $defs: {
              ChatMessage: {
                properties: {
                  role: {
                    title: 'Role',
                    type: 'string',
                  },
                  content: {
                    title: 'Content',
                    type: 'string',
                  },
                },
                required: ['role', 'content'],
                title: 'ChatMessage',
                type: 'object',
              },
              ResponseFormat: {
                properties: {
                  type: {
                    enum: ['text', 'json_object', 'json_schema'],
                    title: 'Type',
                    type: 'string',
                  },
                  json_schema: {
                    anyOf: [
                      {
                        additionalProperties: true,
                        type: 'object',
                      },
                      {
                        type: 'null',
                      },
                    ],
                    default: null,
                    title: 'Json Schema',
                  },
                },
                required: ['type'],
                title: 'ResponseFormat',
                type: 'object',
              },
            },
            properties: {
              model: {
                title: 'Model',
                type: 'string',
              },
              frequency_penalty: {
                anyOf: [
                  {
                    type: 'number',
                  },
                  {
                    type: 'null',
                  },
                ],
                default: 0.0,
                title: 'Frequency Penalty',
              },
              logit_bias: {
                anyOf: [
                  {
                    additionalProperties: {
                      type: 'number',
                    },
                    type: 'object',
                  },
                  {
                    type: 'null',
                  },
                ],
                default: null,
                title: 'Logit Bias',
              },
              logprobs: {
                anyOf: [
                  {
                    type: 'boolean',
                  },
                  {
                    type: 'null',
                  },
                ],
                default: false,
                title: 'Logprobs',
              },
              top_logprobs: {
                anyOf: [
                  {
                    type: 'integer',
                  },
                  {
                    type: 'null',
                  },
                ],
                default: 0,
                title: 'Top Logprobs',
              },
              max_tokens: {
                anyOf: [
                  {
                    type: 'integer',
                  },
                  {
                    type: 'null',
                  },
                ],
                default: null,
                title: 'Max Tokens',
              },
              presence_penalty: {
                anyOf: [
                  {
                    type: 'number',
                  },
                  {
                    type: 'null',
                  },
                ],
                default: 0.0,
                title: 'Presence Penalty',
              },
              response_format: {
                anyOf: [
                  {
                    $ref: '#/definitions/ResponseFormat',
                  },
                  {
                    type: 'null',
                  },
                ],
                default: null,
              },
              seed: {
                anyOf: [
                  {
                    maximum: 9223372036854775807n,
                    minimum: 0,
                    type: 'integer',
                  },
                  {
                    type: 'null',
                  },
                ],
                default: null,
                title: 'Seed',
              },
              stop: {
                anyOf: [
                  {
                    type: 'string',
                  },
                  {
                    items: {
                      type: 'string',
                    },
                    type: 'array',
                  },
                  {
                    type: 'null',
                  },
                ],
                title: 'Stop',
              },
              stream: {
                anyOf: [
                  {
                    type: 'boolean',
                  },
                  {
                    type: 'null',
                  },
                ],
                default: false,
                title: 'Stream',
              },
              temperature: {
                anyOf: [
                  {
                    type: 'number',
                  },
                  {
                    type: 'null',
                  },
                ],
                default: 0.7,
                title: 'Temperature',
              },
              top_p: {
                anyOf: [
                  {
                    type: 'number',
                  },
                  {
                    type: 'null',
                  },
                ],
                default: 1.0,
                title: 'Top P',
              },
              best_of: {
                anyOf: [
                  {
                    type: 'integer',
                  },
                  {
                    type: 'null',
                  },
                ],
                default: null,
                title: 'Best Of',
              },
              use_beam_search: {
                default: false,
                title: 'Use Beam Search',
                type: 'boolean',
              },
              top_k: {
                default: -1,
                title: 'Top K',
                type: 'integer',
              },
              min_p: {
                default: 0.0,
                title: 'Min P',
                type: 'number',
              },
              repetition_penalty: {
                default: 1.0,
                title: 'Repetition Penalty',
                type: 'number',
              },
              length_penalty: {
                default: 1.0,
                title: 'Length Penalty',
                type: 'number',
              },
              stop_token_ids: {
                anyOf: [
                  {
                    items: {
                      type: 'integer',
                    },
                    type: 'array',
                  },
                  {
                    type: 'null',
                  },
                ],
                title: 'Stop Token Ids',
              },
              include_stop_str_in_output: {
                default: false,
                title: 'Include Stop Str In Output',
                type: 'boolean',
              },
              ignore_eos: {
                default: false,
                title: 'Ignore Eos',
                type: 'boolean',
              },
              min_tokens: {
                default: 0,
                title: 'Min Tokens',
                type: 'integer',
              },
              skip_special_tokens: {
                default: true,
                title: 'Skip Special Tokens',
                type: 'boolean',
              },
              spaces_between_special_tokens: {
                default: true,
                title: 'Spaces Between Special Tokens',
                type: 'boolean',
              },
              prompt_logprobs: {
                anyOf: [
                  {
                    type: 'integer',
                  },
                  {
                    type: 'null',
                  },
                ],
                default: null,
                title: 'Prompt Logprobs',
              },
              messages: {
                items: {
                  $ref: '#/definitions/ChatMessage',
                },
                title: 'Messages',
                type: 'array',
              },
            },
            required: ['model', 'messages'],
            type: 'object',
          },
        },
      },
      CompletionRequest: {
        type: 'object',
        properties: {
          input_args: {
            $ref: '#/definitions/CompletionRequest',
          },
        },
        required: ['input_args'],
        definitions: {
          CompletionRequest: {
            $defs: {
              ResponseFormat: {
                properties: {
                  type: {
                    enum: ['text', 'json_object', 'json_schema'],
                    title: 'Type',
                    type: 'string',
                  },
                  json_schema: {
                    anyOf: [
                      {
                        additionalProperties: true,
                        type: 'object',
                      },
                      {
                        type: 'null',
                      },
                    ],
                    default: null,
                    title: 'Json Schema',
                  },
                },
                required: ['type'],
                title: 'ResponseFormat',
                type: 'object',
              },
            },
            properties: {
              model: {
                title: 'Model',
                type: 'string',
              },
              frequency_penalty: {
                anyOf: [
                  {
                    type: 'number',
                  },
                  {
                    type: 'null',
                  },
                ],
                default: 0.0,
                title: 'Frequency Penalty',
              },
              logit_bias: {
                anyOf: [
                  {
                    additionalProperties: {
                      type: 'number',
                    },
                    type: 'object',
                  },
                  {
                    type: 'null',
                  },
                ],
                default: null,
                title: 'Logit Bias',
              },
              logprobs: {
                anyOf: [
                  {
                    type: 'boolean',
                  },
                  {
                    type: 'null',
                  },
                ],
                default: false,
                title: 'Logprobs',
              },
              top_logprobs: {
                anyOf: [
                  {
                    type: 'integer',
                  },
                  {
                    type: 'null',
                  },
                ],
                default: 0,
                title: 'Top Logprobs',
              },
              max_tokens: {
                anyOf: [
                  {
                    type: 'integer',
                  },
                  {
                    type: 'null',
                  },
                ],
                default: null,
                title: 'Max Tokens',
              },
              presence_penalty: {
                anyOf: [
                  {
                    type: 'number',
                  },
                  {
                    type: 'null',
                  },
                ],
                default: 0.0,
                title: 'Presence Penalty',
              },
              response_format: {
                anyOf: [
                  {
                    $ref: '#/definitions/ResponseFormat',
                  },
                  {
                    type: 'null',
                  },
                ],
                default: null,
              },
              seed: {
                anyOf: [
                  {
                    maximum: 9223372036854775807n,
                    minimum: 0,
                    type: 'integer',
                  },
                  {
                    type: 'null',
                  },
                ],
                default: null,
                title: 'Seed',
              },
              stop: {
                anyOf: [
                  {
                    type: 'string',
                  },
                  {
                    items: {
                      type: 'string',
                    },
                    type: 'array',
                  },
                  {
                    type: 'null',
                  },
                ],
                title: 'Stop',
              },
              stream: {
                anyOf: [
                  {
                    type: 'boolean',
                  },
                  {
                    type: 'null',
                  },
                ],
                default: false,
                title: 'Stream',
              },
              temperature: {
                anyOf: [
                  {
                    type: 'number',
                  },
                  {
                    type: 'null',
                  },
                ],
                default: 0.7,
                title: 'Temperature',
              },
              top_p: {
                anyOf: [
                  {
                    type: 'number',
                  },
                  {
                    type: 'null',
                  },
                ],
                default: 1.0,
                title: 'Top P',
              },
              best_of: {
                anyOf: [
                  {
                    type: 'integer',
                  },
                  {
                    type: 'null',
                  },
                ],
                default: null,
                title: 'Best Of',
              },
              use_beam_search: {
                default: false,
                title: 'Use Beam Search',
                type: 'boolean',
              },
              top_k: {
                default: -1,
                title: 'Top K',
                type: 'integer',
              },
              min_p: {
                default: 0.0,
                title: 'Min P',
                type: 'number',
              },
              repetition_penalty: {
                default: 1.0,
                title: 'Repetition Penalty',
                type: 'number',
              },
              length_penalty: {
                default: 1.0,
                title: 'Length Penalty',
                type: 'number',
              },
              stop_token_ids: {
                anyOf: [
                  {
                    items: {
                      type: 'integer',
                    },
                    type: 'array',
                  },
                  {
                    type: 'null',
                  },
                ],
                title: 'Stop Token Ids',
              },
              include_stop_str_in_output: {
                default: false,
                title: 'Include Stop Str In Output',
                type: 'boolean',
              },
              ignore_eos: {
                default: false,
                title: 'Ignore Eos',
                type: 'boolean',
              },
              min_tokens: {
                default: 0,
                title: 'Min Tokens',
                type: 'integer',
              },
              skip_special_tokens: {
                default: true,
                title: 'Skip Special Tokens',
                type: 'boolean',
              },
              spaces_between_special_tokens: {
                default: true,
                title: 'Spaces Between Special Tokens',
                type: 'boolean',
              },
              prompt_logprobs: {
                anyOf: [
                  {
                    type: 'integer',
                  },
                  {
                    type: 'null',
                  },
                ],
                default: null,
                title: 'Prompt Logprobs',
              },
              prompt: {
                title: 'Prompt',
                type: 'string',
              },
            },
            required: ['model', 'prompt'],
            type: 'object',
          },
        },
      },
      TokenizeRequest: {
        type: 'object',
        properties: {
          input_args: {
            $ref: '#/definitions/TokenizeRequest',
          },
        },
        required: ['input_args'],
        definitions: {
          TokenizeRequest: {
            properties: {
              model: {
                title: 'Model',
                type: 'string',
              },
              prompt: {
                title: 'Prompt',
                type: 'string',
              },
              add_special_tokens: {
                title: 'Add Special Tokens',
                type: 'boolean',
              },
            },
            required: ['model', 'prompt', 'add_special_tokens'],
            type: 'object',
          },
        },
      },
      DetokenizeRequest: {
        type: 'object',
        properties: {
          input_args: {
            $ref: '#/definitions/DetokenizeRequest',
          },
        },
        required: ['input_args'],
        definitions: {
          DetokenizeRequest: {
            properties: {
              model: {
                title: 'Model',
                type: 'string',
              },
              tokens: {
                items: {
                  type: 'integer',
                },
                title: 'Tokens',
                type: 'array',
              },
            },
            required: ['model', 'tokens'],
            type: 'object',
          },
        },
      },
    },
    outputs: {
      ChatCompletionStreamResponse: {
        type: 'object',
        $defs: {
          ChatCompletionLogProb: {
            properties: {
              token: {
                title: 'Token',
                type: 'string',
              },
              logprob: {
                default: -9999.0,
                title: 'Logprob',
                type: 'number',
              },
              bytes: {
                anyOf: [
                  {
                    items: {
                      type: 'integer',
                    },
                    type: 'array',
                  },
                  {
                    type: 'null',
                  },
                ],
                default: null,
                title: 'Bytes',
              },
            },
            required: ['token'],
            title: 'ChatCompletionLogProb',
            type: 'object',
          },
          ChatCompletionLogProbs: {
            properties: {
              content: {
                anyOf: [
                  {
                    items: {
                      $ref: '#/definitions/ChatCompletionLogProbsContent',
                    },
                    type: 'array',
                  },
                  {
                    type: 'null',
                  },
                ],
                default: null,
                title: 'Content',
              },
            },
            title: 'ChatCompletionLogProbs',
            type: 'object',
          },
          ChatCompletionLogProbsContent: {
            properties: {
              token: {
                title: 'Token',
                type: 'string',
              },
              logprob: {
                default: -9999.0,
                title: 'Logprob',
                type: 'number',
              },
              bytes: {
                anyOf: [
                  {
                    items: {
                      type: 'integer',
                    },
                    type: 'array',
                  },
                  {
                    type: 'null',
                  },
                ],
                default: null,
                title: 'Bytes',
              },
              top_logprobs: {
                items: {
                  $ref: '#/definitions/ChatCompletionLogProb',
                },
                title: 'Top Logprobs',
                type: 'array',
              },
            },
            required: ['token'],
            title: 'ChatCompletionLogProbsContent',
            type: 'object',
          },
          ChatCompletionResponseStreamChoice: {
            properties: {
              index: {
                title: 'Index',
                type: 'integer',
              },
              delta: {
                $ref: '#/definitions/DeltaMessage',
              },
              logprobs: {
                anyOf: [
                  {
                    $ref: '#/definitions/ChatCompletionLogProbs',
                  },
                  {
                    type: 'null',
                  },
                ],
                default: null,
              },
              finish_reason: {
                anyOf: [
                  {
                    type: 'string',
                  },
                  {
                    type: 'null',
                  },
                ],
                default: null,
                title: 'Finish Reason',
              },
              stop_reason: {
                anyOf: [
                  {
                    type: 'integer',
                  },
                  {
                    type: 'string',
                  },
                  {
                    type: 'null',
                  },
                ],
                default: null,
                title: 'Stop Reason',
              },
            },
            required: ['index', 'delta'],
            title: 'ChatCompletionResponseStreamChoice',
            type: 'object',
          },
          DeltaMessage: {
            properties: {
              role: {
                anyOf: [
                  {
                    type: 'string',
                  },
                  {
                    type: 'null',
                  },
                ],
                default: null,
                title: 'Role',
              },
              content: {
                anyOf: [
                  {
                    type: 'string',
                  },
                  {
                    type: 'null',
                  },
                ],
                default: null,
                title: 'Content',
              },
            },
            title: 'DeltaMessage',
            type: 'object',
          },
          UsageInfo: {
            properties: {
              prompt_tokens: {
                default: 0,
                title: 'Prompt Tokens',
                type: 'integer',
              },
              total_tokens: {
                default: 0,
                title: 'Total Tokens',
                type: 'integer',
              },
              completion_tokens: {
                anyOf: [
                  {
                    type: 'integer',
                  },
                  {
                    type: 'null',
                  },
                ],
                default: 0,
                title: 'Completion Tokens',
              },
            },
            title: 'UsageInfo',
            type: 'object',
          },
        },
        properties: {
          id: {
            title: 'Id',
            type: 'string',
          },
          object: {
            const: 'chat.completion.chunk',
            default: 'chat.completion.chunk',
            title: 'Object',
            type: 'string',
          },
          created: {
            title: 'Created',
            type: 'integer',
          },
          model: {
            title: 'Model',
            type: 'string',
          },
          choices: {
            items: {
              $ref: '#/definitions/ChatCompletionResponseStreamChoice',
            },
            title: 'Choices',
            type: 'array',
          },
          usage: {
            anyOf: [
              {
                $ref: '#/definitions/UsageInfo',
              },
              {
                type: 'null',
              },
            ],
            default: null,
          },
        },
        required: ['id', 'created', 'model', 'choices'],
      },
      CompletionStreamResponse: {
        type: 'object',
        $defs: {
          CompletionLogProbs: {
            properties: {
              text_offset: {
                items: {
                  type: 'integer',
                },
                title: 'Text Offset',
                type: 'array',
              },
              token_logprobs: {
                items: {
                  anyOf: [
                    {
                      type: 'number',
                    },
                    {
                      type: 'null',
                    },
                  ],
                },
                title: 'Token Logprobs',
                type: 'array',
              },
              tokens: {
                items: {
                  type: 'string',
                },
                title: 'Tokens',
                type: 'array',
              },
              top_logprobs: {
                items: {
                  anyOf: [
                    {
                      additionalProperties: {
                        type: 'number',
                      },
                      type: 'object',
                    },
                    {
                      type: 'null',
                    },
                  ],
                },
                title: 'Top Logprobs',
                type: 'array',
              },
            },
            title: 'CompletionLogProbs',
            type: 'object',
          },
          CompletionResponseStreamChoice: {
            properties: {
              index: {
                title: 'Index',
                type: 'integer',
              },
              text: {
                title: 'Text',
                type: 'string',
              },
              logprobs: {
                anyOf: [
                  {
                    $ref: '#/definitions/CompletionLogProbs',
                  },
                  {
                    type: 'null',
                  },
                ],
                default: null,
              },
              finish_reason: {
                anyOf: [
                  {
                    type: 'string',
                  },
                  {
                    type: 'null',
                  },
                ],
                default: null,
                title: 'Finish Reason',
              },
              stop_reason: {
                anyOf: [
                  {
                    type: 'integer',
                  },
                  {
                    type: 'string',
                  },
                  {
                    type: 'null',
                  },
                ],
                default: null,
                description:
                  'The stop string or token id that caused the completion to stop, None if the completion finished for some other reason including encountering the EOS token',
                title: 'Stop Reason',
              },
            },
            required: ['index', 'text'],
            title: 'CompletionResponseStreamChoice',
            type: 'object',
          },
          UsageInfo: {
            properties: {
              prompt_tokens: {
                default: 0,
                title: 'Prompt Tokens',
                type: 'integer',
              },
              total_tokens: {
                default: 0,
                title: 'Total Tokens',
                type: 'integer',
              },
              completion_tokens: {
                anyOf: [
                  {
                    type: 'integer',
                  },
                  {
                    type: 'null',
                  },
                ],
                default: 0,
                title: 'Completion Tokens',
              },
            },
            title: 'UsageInfo',
            type: 'object',
          },
        },
        properties: {
          id: {
            title: 'Id',
            type: 'string',
          },
          object: {
            title: 'Object',
            type: 'string',
          },
          created: {
            title: 'Created',
            type: 'integer',
          },
          model: {
            title: 'Model',
            type: 'string',
          },
          choices: {
            items: {
              $ref: '#/definitions/CompletionResponseStreamChoice',
            },
            title: 'Choices',
            type: 'array',
          },
          usage: {
            anyOf: [
              {
                $ref: '#/definitions/UsageInfo',
              },
              {
                type: 'null',
              },
            ],
            default: null,
          },
        },
        required: ['id', 'object', 'created', 'model', 'choices'],
      },
      ChatCompletionResponse: {
        type: 'object',
        $defs: {
          ChatCompletionLogProb: {
            properties: {
              token: {
                title: 'Token',
                type: 'string',
              },
              logprob: {
                default: -9999.0,
                title: 'Logprob',
                type: 'number',
              },
              bytes: {
                anyOf: [
                  {
                    items: {
                      type: 'integer',
                    },
                    type: 'array',
                  },
                  {
                    type: 'null',
                  },
                ],
                default: null,
                title: 'Bytes',
              },
            },
            required: ['token'],
            title: 'ChatCompletionLogProb',
            type: 'object',
          },
          ChatCompletionLogProbs: {
            properties: {
              content: {
                anyOf: [
                  {
                    items: {
                      $ref: '#/definitions/ChatCompletionLogProbsContent',
                    },
                    type: 'array',
                  },
                  {
                    type: 'null',
                  },
                ],
                default: null,
                title: 'Content',
              },
            },
            title: 'ChatCompletionLogProbs',
            type: 'object',
          },
          ChatCompletionLogProbsContent: {
            properties: {
              token: {
                title: 'Token',
                type: 'string',
              },
              logprob: {
                default: -9999.0,
                title: 'Logprob',
                type: 'number',
              },
              bytes: {
                anyOf: [
                  {
                    items: {
                      type: 'integer',
                    },
                    type: 'array',
                  },
                  {
                    type: 'null',
                  },
                ],
                default: null,
                title: 'Bytes',
              },
              top_logprobs: {
                items: {
                  $ref: '#/definitions/ChatCompletionLogProb',
                },
                title: 'Top Logprobs',
                type: 'array',
              },
            },
            required: ['token'],
            title: 'ChatCompletionLogProbsContent',
            type: 'object',
          },
          ChatCompletionResponseChoice: {
            properties: {
              index: {
                title: 'Index',
                type: 'integer',
              },
              message: {
                $ref: '#/definitions/ChatMessage',
              },
              logprobs: {
                anyOf: [
                  {
                    $ref: '#/definitions/ChatCompletionLogProbs',
                  },
                  {
                    type: 'null',
                  },
                ],
                default: null,
              },
              finish_reason: {
                anyOf: [
                  {
                    type: 'string',
                  },
                  {
                    type: 'null',
                  },
                ],
                default: 'stop',
                title: 'Finish Reason',
              },
              stop_reason: {
                anyOf: [
                  {
                    type: 'integer',
                  },
                  {
                    type: 'string',
                  },
                  {
                    type: 'null',
                  },
                ],
                default: null,
                title: 'Stop Reason',
              },
            },
            required: ['index', 'message'],
            title: 'ChatCompletionResponseChoice',
            type: 'object',
          },
          ChatMessage: {
            properties: {
              role: {
                title: 'Role',
                type: 'string',
              },
              content: {
                title: 'Content',
                type: 'string',
              },
            },
            required: ['role', 'content'],
            title: 'ChatMessage',
            type: 'object',
          },
          Logprob: {
            properties: {
              logprob: {
                title: 'Logprob',
                type: 'number',
              },
              rank: {
                anyOf: [
                  {
                    type: 'integer',
                  },
                  {
                    type: 'null',
                  },
                ],
                default: null,
                title: 'Rank',
              },
              decoded_token: {
                anyOf: [
                  {
                    type: 'string',
                  },
                  {
                    type: 'null',
                  },
                ],
                default: null,
                title: 'Decoded Token',
              },
            },
            required: ['logprob'],
            title: 'Logprob',
            type: 'object',
          },
          UsageInfo: {
            properties: {
              prompt_tokens: {
                default: 0,
                title: 'Prompt Tokens',
                type: 'integer',
              },
              total_tokens: {
                default: 0,
                title: 'Total Tokens',
                type: 'integer',
              },
              completion_tokens: {
                anyOf: [
                  {
                    type: 'integer',
                  },
                  {
                    type: 'null',
                  },
                ],
                default: 0,
                title: 'Completion Tokens',
              },
            },
            title: 'UsageInfo',
            type: 'object',
          },
        },
        properties: {
          id: {
            title: 'Id',
            type: 'string',
          },
          object: {
            const: 'chat.completion',
            default: 'chat.completion',
            title: 'Object',
            type: 'string',
          },
          created: {
            title: 'Created',
            type: 'integer',
          },
          model: {
            title: 'Model',
            type: 'string',
          },
          choices: {
            items: {
              $ref: '#/definitions/ChatCompletionResponseChoice',
            },
            title: 'Choices',
            type: 'array',
          },
          usage: {
            $ref: '#/definitions/UsageInfo',
          },
          prompt_logprobs: {
            anyOf: [
              {
                items: {
                  anyOf: [
                    {
                      additionalProperties: {
                        $ref: '#/definitions/Logprob',
                      },
                      type: 'object',
                    },
                    {
                      type: 'null',
                    },
                  ],
                },
                type: 'array',
              },
              {
                type: 'null',
              },
            ],
            default: null,
            title: 'Prompt Logprobs',
          },
        },
        required: ['id', 'created', 'model', 'choices', 'usage'],
      },
      CompletionResponse: {
        type: 'object',
        $defs: {
          CompletionLogProbs: {
            properties: {
              text_offset: {
                items: {
                  type: 'integer',
                },
                title: 'Text Offset',
                type: 'array',
              },
              token_logprobs: {
                items: {
                  anyOf: [
                    {
                      type: 'number',
                    },
                    {
                      type: 'null',
                    },
                  ],
                },
                title: 'Token Logprobs',
                type: 'array',
              },
              tokens: {
                items: {
                  type: 'string',
                },
                title: 'Tokens',
                type: 'array',
              },
              top_logprobs: {
                items: {
                  anyOf: [
                    {
                      additionalProperties: {
                        type: 'number',
                      },
                      type: 'object',
                    },
                    {
                      type: 'null',
                    },
                  ],
                },
                title: 'Top Logprobs',
                type: 'array',
              },
            },
            title: 'CompletionLogProbs',
            type: 'object',
          },
          CompletionResponseChoice: {
            properties: {
              index: {
                title: 'Index',
                type: 'integer',
              },
              text: {
                title: 'Text',
                type: 'string',
              },
              logprobs: {
                anyOf: [
                  {
                    $ref: '#/definitions/CompletionLogProbs',
                  },
                  {
                    type: 'null',
                  },
                ],
                default: null,
              },
              finish_reason: {
                anyOf: [
                  {
                    type: 'string',
                  },
                  {
                    type: 'null',
                  },
                ],
                default: null,
                title: 'Finish Reason',
              },
              stop_reason: {
                anyOf: [
                  {
                    type: 'integer',
                  },
                  {
                    type: 'string',
                  },
                  {
                    type: 'null',
                  },
                ],
                default: null,
                description:
                  'The stop string or token id that caused the completion to stop, None if the completion finished for some other reason including encountering the EOS token',
                title: 'Stop Reason',
              },
              prompt_logprobs: {
                anyOf: [
                  {
                    items: {
                      anyOf: [
                        {
                          additionalProperties: {
                            $ref: '#/definitions/Logprob',
                          },
                          type: 'object',
                        },
                        {
                          type: 'null',
                        },
                      ],
                    },
                    type: 'array',
                  },
                  {
                    type: 'null',
                  },
                ],
                default: null,
                title: 'Prompt Logprobs',
              },
            },
            required: ['index', 'text'],
            title: 'CompletionResponseChoice',
            type: 'object',
          },
          Logprob: {
            properties: {
              logprob: {
                title: 'Logprob',
                type: 'number',
              },
              rank: {
                anyOf: [
                  {
                    type: 'integer',
                  },
                  {
                    type: 'null',
                  },
                ],
                default: null,
                title: 'Rank',
              },
              decoded_token: {
                anyOf: [
                  {
                    type: 'string',
                  },
                  {
                    type: 'null',
                  },
                ],
                default: null,
                title: 'Decoded Token',
              },
            },
            required: ['logprob'],
            title: 'Logprob',
            type: 'object',
          },
          UsageInfo: {
            properties: {
              prompt_tokens: {
                default: 0,
                title: 'Prompt Tokens',
                type: 'integer',
              },
              total_tokens: {
                default: 0,
                title: 'Total Tokens',
                type: 'integer',
              },
              completion_tokens: {
                anyOf: [
                  {
                    type: 'integer',
                  },
                  {
                    type: 'null',
                  },
                ],
                default: 0,
                title: 'Completion Tokens',
              },
            },
            title: 'UsageInfo',
            type: 'object',
          },
        },
        properties: {
          id: {
            title: 'Id',
            type: 'string',
          },
          object: {
            default: 'text_completion',
            title: 'Object',
            type: 'string',
          },
          created: {
            title: 'Created',
            type: 'integer',
          },
          model: {
            title: 'Model',
            type: 'string',
          },
          choices: {
            items: {
              $ref: '#/definitions/CompletionResponseChoice',
            },
            title: 'Choices',
            type: 'array',
          },
          usage: {
            $ref: '#/definitions/UsageInfo',
          },
        },
        required: ['id', 'created', 'model', 'choices', 'usage'],
      },
      TokenizeResponse: {
        type: 'object',
        properties: {
          count: {
            title: 'Count',
            type: 'integer',
          },
          max_model_len: {
            title: 'Max Model Len',
            type: 'integer',
          },
          tokens: {
            items: {
              type: 'integer',
            },
            title: 'Tokens',
            type: 'array',
          },
        },
        required: ['count', 'max_model_len', 'tokens'],
      },
      DetokenizeResponse: {
        type: 'object',
        properties: {
          prompt: {
            title: 'Prompt',
            type: 'string',
          },
        },
        required: ['prompt'],
      },
    },
  },
  embedding: {
    inputs: {
      EmbeddingRequest: {
        type: 'object',
        properties: {
          input_args: {
            $ref: '#/definitions/EmbeddingRequest',
          },
        },
        required: ['input_args'],
        definitions: {
          EmbeddingRequest: {
            properties: {
              model: {
                title: 'Model',
                type: 'string',
              },
              input: {
                anyOf: [
                  {
                    type: 'string',
                  },
                  {
                    items: {
                      type: 'string',
                    },
                    type: 'array',
                  },
                ],
                title: 'Input',
              },
              encoding_format: {
                anyOf: [
                  {
                    enum: ['float', 'base64'],
                    type: 'string',
                  },
                  {
                    type: 'null',
                  },
                ],
                default: 'float',
                title: 'Encoding Format',
              },
              dimensions: {
                anyOf: [
                  {
                    type: 'integer',
                  },
                  {
                    type: 'null',
                  },
                ],
                default: null,
                title: 'Dimensions',
              },
              user: {
                anyOf: [
                  {
                    type: 'string',
                  },
                  {
                    type: 'null',
                  },
                ],
                default: null,
                title: 'User',
              },
              truncate_prompt_tokens: {
                anyOf: [
                  {
                    type: 'integer',
                  },
                  {
                    type: 'null',
                  },
                ],
                default: null,
                title: 'Truncate Prompt Tokens',
              },
            },
            required: ['model', 'input'],
            type: 'object',
          },
        },
      },
      MinifiedEmbeddingRequest: {
        type: 'object',
        properties: {
          input_args: {
            $ref: '#/definitions/MinifiedEmbeddingRequest',
          },
        },
        required: ['input_args'],
        definitions: {
          MinifiedEmbeddingRequest: {
            properties: {
              input: {
                anyOf: [
                  {
                    type: 'string',
                  },
                  {
                    items: {
                      type: 'string',
                    },
                    type: 'array',
                  },
                ],
                title: 'Input',
              },
              model: {
                anyOf: [
                  {
                    type: 'string',
                  },
                  {
                    type: 'null',
                  },
                ],
                default: null,
                title: 'Model',
              },
            },
            required: ['input'],
            type: 'object',
          },
        },
      },
    },
    outputs: {
      EmbeddingResponse: {
        type: 'object',
        $defs: {
          EmbeddingData: {
            properties: {
              index: {
                title: 'Index',
                type: 'integer',
              },
              object: {
                default: 'embedding',
                title: 'Object',
                type: 'string',
              },
              embedding: {
                items: {
                  type: 'number',
                },
                title: 'Embedding',
                type: 'array',
              },
            },
            required: ['index', 'embedding'],
            title: 'EmbeddingData',
            type: 'object',
          },
          EmbeddingUsage: {
            properties: {
              prompt_tokens: {
                title: 'Prompt Tokens',
                type: 'integer',
              },
              total_tokens: {
                title: 'Total Tokens',
                type: 'integer',
              },
              completion_tokens: {
                anyOf: [
                  {
                    type: 'integer',
                  },
                  {
                    type: 'null',
                  },
                ],
                default: 0,
                title: 'Completion Tokens',
              },
              prompt_tokens_details: {
                anyOf: [
                  {
                    additionalProperties: true,
                    type: 'object',
                  },
                  {
                    type: 'null',
                  },
                ],
                default: null,
                title: 'Prompt Tokens Details',
              },
            },
            required: ['prompt_tokens', 'total_tokens'],
            title: 'EmbeddingUsage',
            type: 'object',
          },
        },
        properties: {
          id: {
            title: 'Id',
            type: 'string',
          },
          object: {
            default: 'list',
            title: 'Object',
            type: 'string',
          },
          data: {
            items: {
              $ref: '#/definitions/EmbeddingData',
            },
            title: 'Data',
            type: 'array',
          },
          model: {
            title: 'Model',
            type: 'string',
          },
          usage: {
            $ref: '#/definitions/EmbeddingUsage',
          },
        },
        required: ['id', 'data', 'model', 'usage'],
      },
    },
  },
} as const;
