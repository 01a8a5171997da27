"""Chemistry: featurise SMILES with RDKit, and the ChEMBL series that ships with RDKit.

Needs the ``[chem]`` extra (``pip install "activelab[chem]"``); RDKit is imported
only when a function here is called.

* :func:`morgan_fingerprints`: Morgan (ECFP-like) bit or count fingerprints from
  RDKit's ``rdFingerprintGenerator``.
* :func:`rdkit_descriptors`: a table of RDKit molecular descriptors.
* :func:`parse_smiles`: SMILES to molecules; an unparsable SMILES is an error
  that names its row. RDKit's own parse messages are silenced.
* :func:`load_chembl_series`: the ChEMBL2321810 series (1,017 compounds with
  pIC50) from RDKit's ``Contrib/FreeWilson/data`` folder.
"""

from __future__ import annotations

import contextlib
import importlib.util
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

__all__ = [
    "DEFAULT_DESCRIPTORS",
    "ChemblSeries",
    "SmilesError",
    "load_chembl_series",
    "morgan_fingerprints",
    "parse_smiles",
    "rdkit_descriptors",
]

#: A compact, commonly used set of RDKit descriptors (all finite for organic molecules).
DEFAULT_DESCRIPTORS: tuple[str, ...] = (
    "MolWt",
    "MolLogP",
    "TPSA",
    "NumHDonors",
    "NumHAcceptors",
    "NumRotatableBonds",
    "RingCount",
    "NumAromaticRings",
    "FractionCSP3",
    "HeavyAtomCount",
    "NHOHCount",
    "NOCount",
    "qed",
)

_INSTALL_HINT = (
    'RDKit is needed for activelab.data.chem; install it with: pip install "activelab[chem]"'
)


class SmilesError(ValueError):
    """A SMILES string could not be parsed; the message names its row."""


def _rdkit() -> Any:
    try:
        from rdkit import Chem
    except ImportError as exc:  # pragma: no cover - rdkit is installed in the test setup
        raise ImportError(_INSTALL_HINT) from exc
    return Chem


@contextlib.contextmanager
def _quiet_rdkit() -> Iterator[None]:
    """Silence RDKit's log while parsing; the previous log settings come back afterwards."""
    from rdkit import rdBase

    if hasattr(rdBase, "BlockLogs"):
        block = rdBase.BlockLogs()  # restores the caller's settings when released
        try:
            yield
        finally:
            del block
        return
    from rdkit import RDLogger  # pragma: no cover - RDKit before 2022.03

    RDLogger.DisableLog("rdApp.*")  # pragma: no cover
    try:  # pragma: no cover
        yield
    finally:  # pragma: no cover
        RDLogger.EnableLog("rdApp.error")
        RDLogger.EnableLog("rdApp.warning")


def parse_smiles(smiles: Sequence[str] | str, *, skip_bad: bool = False) -> list[Any]:
    """RDKit molecules from SMILES strings; every row must parse unless ``skip_bad``.

    Rows are numbered from 1, like the data rows of a file (as
    :func:`activelab.data.datasets.load_table` numbers them).

    Parameters
    ----------
    smiles : sequence of str, or str
    skip_bad : bool, default=False
        Return None in place of each SMILES that does not parse, instead of raising.

    Raises
    ------
    SmilesError
        Naming the first row that does not parse (and its SMILES) and every
        other row that fails, e.g. ``Row 3: cannot parse SMILES 'C1CC'``.

    Examples
    --------
    >>> [m.GetNumAtoms() for m in parse_smiles(["CCO", "c1ccccc1"])]
    [3, 6]
    >>> parse_smiles(["CCO", "C1CC", "CC(", "CC"])
    Traceback (most recent call last):
    ...
    activelab.data.chem.SmilesError: Row 2: cannot parse SMILES 'C1CC' (2 rows fail: 2, 3). ...
    >>> [m is None for m in parse_smiles(["CCO", "C1CC"], skip_bad=True)]
    [False, True]
    """
    Chem = _rdkit()
    if isinstance(smiles, str):
        smiles = [smiles]
    mols: list[Any] = []
    with _quiet_rdkit():
        for s in smiles:
            mols.append(Chem.MolFromSmiles(s) if isinstance(s, str) and s.strip() else None)
    bad = [i for i, m in enumerate(mols) if m is None]
    if bad and not skip_bad:
        first = bad[0]
        more = ""
        if len(bad) > 1:
            more = f" ({len(bad)} rows fail: {', '.join(str(b + 1) for b in bad)})"
        raise SmilesError(
            f"Row {first + 1}: cannot parse SMILES {smiles[first]!r}{more}. "
            "Fix or drop these rows (check brackets, ring-closure digits and valences)."
        )
    return mols


def _molecules(smiles_or_mols: Sequence[Any]) -> list[Any]:
    items = list(smiles_or_mols) if not isinstance(smiles_or_mols, str) else [smiles_or_mols]
    if items and all(not isinstance(x, str) for x in items):
        return items  # already molecules
    return parse_smiles(items)


def morgan_fingerprints(
    smiles: Sequence[Any],
    *,
    radius: int = 2,
    n_bits: int = 2048,
    counts: bool = False,
    sparse: bool = False,
) -> np.ndarray | sp.csr_matrix:
    """Morgan fingerprints (ECFP4 with the defaults) of SMILES strings or molecules.

    Parameters
    ----------
    smiles : sequence of str or RDKit molecules
    radius : int, default=2
        Morgan radius (2 ≈ ECFP4).
    n_bits : int, default=2048
        Fingerprint length.
    counts : bool, default=False
        Count fingerprints instead of bits.
    sparse : bool, default=False
        Return a CSR matrix instead of a dense array.

    Returns
    -------
    ndarray of uint8 (or uint32 counts) of shape (n, n_bits), or CSR matrix

    Examples
    --------
    >>> fp = morgan_fingerprints(["CCO", "c1ccccc1O"], n_bits=256)
    >>> fp.shape, fp.dtype.name, bool(fp.sum(axis=1).min() > 0)
    ((2, 256), 'uint8', True)
    >>> morgan_fingerprints(["CCO", "not a smiles"])
    Traceback (most recent call last):
    ...
    activelab.data.chem.SmilesError: Row 2: cannot parse SMILES 'not a smiles'. ...
    """
    if radius < 0 or n_bits < 1:
        raise ValueError(f"Need radius >= 0 and n_bits >= 1, got radius={radius}, n_bits={n_bits}.")
    mols = _molecules(smiles)
    from rdkit.Chem import rdFingerprintGenerator

    gen = rdFingerprintGenerator.GetMorganGenerator(radius=radius, fpSize=n_bits)
    dtype = np.uint32 if counts else np.uint8
    out = np.zeros((len(mols), n_bits), dtype=dtype)
    as_numpy = gen.GetCountFingerprintAsNumPy if counts else gen.GetFingerprintAsNumPy
    for i, mol in enumerate(mols):
        out[i] = as_numpy(mol)
    return sp.csr_matrix(out) if sparse else out


def rdkit_descriptors(
    smiles: Sequence[Any], names: Sequence[str] | str | None = None
) -> tuple[np.ndarray, list[str]]:
    """RDKit molecular descriptors of SMILES strings or molecules.

    Parameters
    ----------
    smiles : sequence of str or RDKit molecules
    names : sequence of str, "all" or None
        Descriptor names from ``rdkit.Chem.Descriptors.descList``;
        ``None`` gives :data:`DEFAULT_DESCRIPTORS`, ``"all"`` every descriptor
        RDKit has (a few, e.g. partial charges, can be NaN for unusual
        molecules; impute before building a pool).

    Returns
    -------
    values : ndarray of float64, shape (n, n_descriptors)
    names : list of str

    Examples
    --------
    >>> values, names = rdkit_descriptors(["CCO"], ["MolWt", "NumHDonors"])
    >>> names, np.round(values, 2).tolist()
    (['MolWt', 'NumHDonors'], [[46.07, 1.0]])
    """
    mols = _molecules(smiles)
    from rdkit.Chem import Descriptors

    table = dict(Descriptors.descList)
    if names is None:
        chosen = list(DEFAULT_DESCRIPTORS)
    elif isinstance(names, str):
        if names != "all":
            raise ValueError(
                f"names must be a list of descriptor names, None or 'all', got {names!r}."
            )
        chosen = list(table)
    else:
        chosen = list(names)
    unknown = [n for n in chosen if n not in table]
    if unknown:
        raise ValueError(
            f"Unknown RDKit descriptor(s): {', '.join(unknown)}. "
            "See rdkit.Chem.Descriptors.descList for the names."
        )
    funcs = [table[n] for n in chosen]
    values = np.array([[f(m) for f in funcs] for m in mols], dtype=float).reshape(len(mols), -1)
    return values, chosen


@dataclass(frozen=True)
class ChemblSeries:
    """A congeneric series with measured potency.

    Attributes
    ----------
    smiles : list of str
    pic50 : ndarray of float64
        Potency, -log10(IC50 in mol/L); higher is more potent.
    ids : ndarray of int64
        ChEMBL compound ids (the numeric part).
    name : str
    """

    smiles: list[str]
    pic50: np.ndarray
    ids: np.ndarray
    name: str

    def __len__(self) -> int:
        return len(self.smiles)


def _freewilson_dir() -> Path:
    spec = importlib.util.find_spec("rdkit")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(_INSTALL_HINT)
    for root in spec.submodule_search_locations:
        folder = Path(root) / "Contrib" / "FreeWilson" / "data"
        if folder.is_dir():
            return folder
    raise FileNotFoundError(
        "RDKit is installed but has no Contrib/FreeWilson/data folder; the ChEMBL series ships "
        "with the PyPI 'rdkit' package (pip install rdkit)."
    )


def load_chembl_series() -> ChemblSeries:
    """The ChEMBL2321810 series shipped inside RDKit's PyPI package (1,017 compounds, pIC50).

    ``CHEMBL2321810_act.csv`` (columns ``Name``, ``Act``) is joined to
    ``CHEMBL2321810.smi`` (``SMILES id`` per line) by compound id, in the order
    of the activity file. Every SMILES is checked to parse.

    Examples
    --------
    >>> series = load_chembl_series()
    >>> len(series), series.name, round(float(series.pic50.max()), 2)
    (1017, 'CHEMBL2321810', 9.22)
    """
    folder = _freewilson_dir()
    act_path = folder / "CHEMBL2321810_act.csv"
    smi_path = folder / "CHEMBL2321810.smi"
    smiles_by_id: dict[int, str] = {}
    for lineno, line in enumerate(smi_path.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        parts = line.split()
        if len(parts) != 2 or not parts[1].isdigit():
            raise ValueError(f"{smi_path}, line {lineno}: expected 'SMILES id', got {line!r}.")
        smiles_by_id[int(parts[1])] = parts[0]
    ids: list[int] = []
    values: list[float] = []
    lines = act_path.read_text().splitlines()
    if not lines or lines[0].strip().split(",") != ["Name", "Act"]:
        raise ValueError(f"{act_path}: expected the header 'Name,Act'.")
    for lineno, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        name, _, value = line.partition(",")
        try:
            ids.append(int(name))
            values.append(float(value))
        except ValueError:
            raise ValueError(f"{act_path}, line {lineno}: cannot read {line!r}.") from None
    missing = [i for i in ids if i not in smiles_by_id]
    if missing:
        raise ValueError(f"{act_path}: compound {missing[0]} has no SMILES in {smi_path.name}.")
    smiles = [smiles_by_id[i] for i in ids]
    parse_smiles(smiles)
    return ChemblSeries(
        smiles=smiles,
        pic50=np.asarray(values, dtype=float),
        ids=np.asarray(ids, dtype=np.int64),
        name="CHEMBL2321810",
    )
