"""Exports the whole networks the ONNX import tests check (tests/models/onnx_import_test.cpp)
into DIR, with Debian's python3-torch and python3-torchvision:

    python3 tests/models/onnx_nets.py DIR [NAME...]

Random weights (weights=None), training mode (TrainingMode.TRAINING and no
constant folding, so batch norm is not folded into the convolutions) and
export_params=False: the weights become shaped graph inputs instead of
initializers, so even VGG-16 is a few kB. Exit code 3 (and a line on stderr)
where torch or torchvision is missing.
"""
import sys
import warnings

try:
    import torch
    import torchvision
except ImportError as e:  # the C++ test skips on exit code 3
    print(f"onnx_nets.py: {e}", file=sys.stderr)
    sys.exit(3)

warnings.filterwarnings("ignore")


class Encoder(torch.nn.Module):
    """Token embedding, post-LN Transformer encoder layers, linear decoder.
    With d=512, 8 heads, ff=2048, ReLU and 6 layers it is lpsim's zoo model
    transformer-wikitext103 (docs/models.md), here on PTB's 10,000 words and T=35."""

    def __init__(self, vocab, d, heads, ff, layers, activation):
        super().__init__()
        self.emb = torch.nn.Embedding(vocab, d)
        layer = torch.nn.TransformerEncoderLayer(d, heads, ff, dropout=0.1,
                                                 activation=activation, batch_first=True)
        self.enc = torch.nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.fc = torch.nn.Linear(d, vocab)

    def forward(self, x):
        return self.fc(self.enc(self.emb(x)))


NETS = {
    "resnet18": (lambda: torchvision.models.resnet18(weights=None), lambda: torch.randn(1, 3, 224, 224)),
    "resnet50": (lambda: torchvision.models.resnet50(weights=None), lambda: torch.randn(1, 3, 224, 224)),
    "mobilenetv2": (lambda: torchvision.models.mobilenet_v2(weights=None), lambda: torch.randn(1, 3, 224, 224)),
    "vgg16": (lambda: torchvision.models.vgg16(weights=None), lambda: torch.randn(1, 3, 224, 224)),
    # A small encoder (GELU: Erf and its arithmetic; LayerNorm before opset 17: its decomposition).
    "encoder": (lambda: Encoder(1000, 256, 4, 1024, 2, "gelu"), lambda: torch.randint(0, 1000, (1, 64))),
    # The zoo's transformer-wikitext103 on PTB (vocabulary 10,000, T = 35).
    "transformer_ptb": (lambda: Encoder(10000, 512, 8, 2048, 6, "relu"), lambda: torch.randint(0, 10000, (1, 35))),
}


def main():
    out = sys.argv[1]
    names = sys.argv[2:] or list(NETS)
    torch.manual_seed(0)
    for name in names:
        make, example = NETS[name]
        model = make()
        model.train()
        with torch.no_grad():
            torch.onnx.export(model, example(), f"{out}/{name}.onnx", export_params=False,
                              training=torch.onnx.TrainingMode.TRAINING, do_constant_folding=False,
                              input_names=["input"], opset_version=13)
        # What torchvision says of the network (for the test's message).
        params = sum(p.numel() for p in model.parameters())
        print(f"{name} {params}")


if __name__ == "__main__":
    main()
