"""A tiny random chat model for fast tests: a ~1.7M-parameter Llama and a byte-level BPE tokenizer.

The model is built from a config in code and the tokenizer is trained in-process with the
``tokenizers`` library, so nothing is downloaded. Both are saved with ``save_pretrained`` and load
back with ``AutoModelForCausalLM.from_pretrained(dir)`` and ``AutoTokenizer.from_pretrained(dir)``.
The chat template is ChatML (``<|im_start|>role\\n...<|im_end|>\\n``), as in SmolLM2.
"""

from __future__ import annotations

from pathlib import Path

CHATML_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)

SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]

_WORDS = (
    "You are the dictator. You have 10 coins and may give any number of them to the recipient. "
    "How many do you give? Reply with your reasoning, then one line ANSWER: {json}. "
    'ANSWER: {"give": 0} ANSWER: {"give": 5} ANSWER: {"give": 10} '
    'ANSWER: {"move": "cooperate"} ANSWER: {"move": "defect"} ANSWER: {"send": 3} '
    'ANSWER: {"price": 1.47} ANSWER: {"quantity": 2.5} ANSWER: {"return": 7} '
    "prisoners dilemma row column player cooperate defect trust game investor trustee send return "
    "Cournot duopoly quantity Bertrand price payoff profit cost demand ultimatum proposer responder "
    "accept reject offer public goods contribute fairness Kantian moral everyone did as I do "
    "economicus moralis kappa inequity aversion own payoff my payoff the other player "
    "Giving x leaves me 10 - x and gives the other x, so my payoff is highest when x = 0. "
    "If everyone did as I do, we would both cooperate and each get 3 rather than 1. "
    "The temptation T = 5, reward R = 3, punishment P = 1, sucker S = 0. "
    '0 1 2 3 4 5 6 7 8 9 10 11 12 20 25 50 100 0.25 0.5 0.75 1.0 { } [ ] " : , . ; ( ) + - * / = < > '
    "system user assistant coins tokens round rounds total amount share half none all\n"
)


def build_tiny_model(out_dir: Path, *, vocab_size: int = 512, seed: int = 0) -> Path:
    """Build and save a tiny random Llama chat model with its own BPE tokenizer.

    Args:
        out_dir: Directory to write the model and tokenizer to (created if missing).
        vocab_size: Target BPE vocabulary size (special tokens included).
        seed: Seed for the random weights.

    Returns:
        ``out_dir``, which ``from_pretrained`` loads as model and tokenizer.
    """
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)

    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    bpe.train_from_iterator([_WORDS] * 4, trainer=trainer)

    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=bpe,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        bos_token=None,
        unk_token=None,
        model_max_length=1024,
    )
    tokenizer.chat_template = CHATML_TEMPLATE
    tokenizer.save_pretrained(out_dir)

    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=192,
        intermediate_size=512,
        num_hidden_layers=4,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=1024,
        bos_token_id=None,
        eos_token_id=tokenizer.convert_tokens_to_ids("<|im_end|>"),
        pad_token_id=tokenizer.convert_tokens_to_ids("<|endoftext|>"),
        tie_word_embeddings=False,
        initializer_range=0.1,  # large enough that random answers differ from prompt to prompt
    )
    torch.manual_seed(seed)
    model = LlamaForCausalLM(config)
    model.generation_config.eos_token_id = config.eos_token_id
    model.generation_config.pad_token_id = config.pad_token_id
    model.save_pretrained(out_dir)
    return out_dir
